// Command pulumi-gen-sdk writes the SDK of a Pulumi package schema for one language, with the
// generators `pulumi package gen-sdk` runs, called directly: that command asks the language host
// to generate, which the buildable Python and Node.js hosts (sdk v3.68.0) predate ("GeneratePackage
// not implemented"), and no Go host is built here at all.
//
// The generators come from github.com/pulumi/pulumi/pkg/v3 at the CLI's version (scripts/pulumi-cli).
// Not older: v3.206.0's Node.js generator, built with Go 1.26, writes `import * as inputs from
// "./types/input"` into types/input.ts, which does not compile (it takes path.Dir of
// filepath.Rel("types", ""), and Go 1.26's Rel returns "..", where earlier Go returned "../.");
// later versions clean that path instead. The .NET and Java generators are not in that module at
// this version: they live with their language hosts.
//
// Usage: pulumi-gen-sdk python|nodejs|go SCHEMA.json OUT_DIR
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	nodejsgen "github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	pythongen "github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

const tool = "pulumi-gen-sdk"

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: pulumi-gen-sdk python|nodejs|go SCHEMA.json OUT_DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-gen-sdk: %v\n", err)
		os.Exit(1)
	}
}

func run(language, schemaPath, outDir string) error {
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return fmt.Errorf("%s: %w", schemaPath, err)
	}
	// The schema references no other package: a loader that refuses to load any.
	pkg, diags, err := schema.BindSpec(spec, schema.NewNullLoader(), schema.ValidationOptions{})
	if err != nil {
		return err
	}
	if diags.HasErrors() {
		return diags
	}
	var files map[string][]byte
	switch language {
	case "python":
		files, err = pythongen.GeneratePackage(tool, pkg, nil, nil)
	case "nodejs":
		files, err = nodejsgen.GeneratePackage(tool, pkg, nil, nil, false, nil)
	case "go":
		files, err = gogen.GeneratePackage(tool, pkg, nil)
	default:
		return fmt.Errorf("unknown language %q: expected python, nodejs or go", language)
	}
	if err != nil {
		return err
	}
	for name, content := range files {
		path := filepath.Join(outDir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			return err
		}
	}
	return nil
}
