package samlmeta_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/samlmeta"
)

// FuzzParse checks that Parse never panics, that every refusal wraps ErrInvalid, and that an
// accepted document always has an issuer and a signing certificate. It is seeded from the
// documents under testdata.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.xml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		m, err := samlmeta.Parse(doc)
		if err != nil {
			if !errors.Is(err, samlmeta.ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if m.EntityID == "" || len(m.SigningCertificates) == 0 {
			t.Fatalf("accepted metadata without an issuer or a signing certificate: %+v", m)
		}
	})
}
