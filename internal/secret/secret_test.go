package secret_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/secret"
)

func TestSealOpen(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte{7}, secret.KeySize)
	box, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := box.Seal([]byte("wJalrXUtnFEMI/K7MDENG"), []byte("AKIA1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, []byte("wJalrXUtnFEMI")) {
		t.Fatal("ciphertext contains the plaintext")
	}
	pt, err := box.Open(ct, []byte("AKIA1"))
	if err != nil || string(pt) != "wJalrXUtnFEMI/K7MDENG" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	if _, err := box.Open(ct, []byte("AKIA2")); err == nil {
		t.Fatal("ciphertext opened under another context")
	}
	ct[len(ct)-1] ^= 1
	if _, err := box.Open(ct, []byte("AKIA1")); err == nil {
		t.Fatal("tampered ciphertext opened")
	}
	other, _ := secret.NewBox(bytes.Repeat([]byte{8}, secret.KeySize))
	ct2, _ := box.Seal([]byte("x"), nil)
	if _, err := other.Open(ct2, nil); err == nil {
		t.Fatal("opened under another master key")
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"hex", strings.Repeat("ab", 32), true},
		{"base64", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", true},
		{"short", "abcd", false},
		{"garbage", "not a key", false},
	}
	for _, tt := range tests {
		t.Run("case="+tt.name, func(t *testing.T) {
			_, err := secret.ParseKey(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseKey(%q) err = %v, want ok=%v", tt.in, err, tt.ok)
			}
		})
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "data", "master.key")
	k1, err := secret.LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, want 0600", st.Mode().Perm())
	}
	k2, err := secret.LoadOrCreateKeyFile(path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second load differs: %v", err)
	}
}
