package awsmanaged

import "testing"

// BenchmarkLoad measures the one-time cost of parsing the catalogue.
func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := Load(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLookup measures finding a policy by ARN, which attach and GetPolicy do.
func BenchmarkLookup(b *testing.B) {
	set, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if set.Lookup("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess") == nil {
			b.Fatal("not found")
		}
	}
}
