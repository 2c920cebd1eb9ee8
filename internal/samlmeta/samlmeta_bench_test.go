package samlmeta_test

import (
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/samlmeta"
)

func BenchmarkParse(b *testing.B) {
	doc := read(b, "good-okta.xml")
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := samlmeta.Parse(doc); err != nil {
			b.Fatal(err)
		}
	}
}
