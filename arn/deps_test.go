package arn_test

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports keeps arn free of HTTP, SQL and the server's internal packages.
func TestImports(t *testing.T) {
	t.Parallel()
	pkg, err := build.Default.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if imp == "net/http" || imp == "database/sql" || strings.Contains(imp, "/internal/") {
			t.Errorf("arn imports %s", imp)
		}
	}
}
