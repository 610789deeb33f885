package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRelPath(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(wd, ".build", "upload-linux-arm64")
	outside := filepath.Join(filepath.Dir(wd), "elsewhere")
	for _, tt := range []struct{ in, want string }{
		{inside, filepath.Join(".build", "upload-linux-arm64")},
		{outside, outside},
		{wd, "."},
	} {
		if got := relPath(tt.in); got != tt.want {
			t.Errorf("relPath(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
