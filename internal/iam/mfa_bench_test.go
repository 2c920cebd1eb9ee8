package iam

import (
	"testing"
	"time"
)

// BenchmarkVerifyMFACode is one MFA check as STS makes it: a read, a TOTP verification and a
// durable write of the step used. Each iteration moves the clock a step so its code is new.
func BenchmarkVerifyMFACode(b *testing.B) {
	f := newIDPFixture(b)
	userID := f.mfaTestUser(b, "alice")
	serial, seed := f.mfaTestDevice(b, "phone")
	now := mfaCode.Step(f.now)
	if err := f.enable("alice", serial, seed, now-1, now); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		f.now = f.now.Add(30 * time.Second)
		if err := f.svc.VerifyMFACode(f.ctx, f.account, serial, userID, mfaCode.Code(seed, f.now)); err != nil {
			b.Fatal(err)
		}
	}
}
