#!/usr/bin/env node
// The installed `token-rotator` command. A file of its own rather than dist/cli/main.js itself:
// npm checks `bin` targets before `prepack` builds dist/, and on an unbuilt checkout it would
// drop the command from the manifest it publishes.
require('../dist/cli/main.js');
