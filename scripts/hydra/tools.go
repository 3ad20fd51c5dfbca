//go:build tools

// Package tools pins the Ory Hydra version that scripts/setup-hydra.sh builds.
package tools

import _ "github.com/ory/hydra/v2"
