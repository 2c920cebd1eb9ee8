package iam

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/totp"
)

// mfaTestDevice creates a virtual device and returns its serial number and seed.
func (f *idpFixture) mfaTestDevice(t testing.TB, name string) (string, []byte) {
	t.Helper()
	out, err := f.svc.CreateVirtualMFADevice(f.ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	seed, err := totp.DecodeSeed(string(out.VirtualMFADevice.Base32StringSeed))
	if err != nil {
		t.Fatal(err)
	}
	return *out.VirtualMFADevice.SerialNumber, seed
}

func (f *idpFixture) mfaTestUser(t testing.TB, name string) string {
	t.Helper()
	out, err := f.svc.CreateUser(f.ctx, &iam.CreateUserInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return *out.User.UserId
}

func (f *idpFixture) enable(user, serial string, seed []byte, s1, s2 int64) error {
	_, err := f.svc.EnableMFADevice(f.ctx, &iam.EnableMFADeviceInput{
		UserName: aws.String(user), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String(mfaCode.CodeAt(seed, s1)), AuthenticationCode2: aws.String(mfaCode.CodeAt(seed, s2)),
	})
	return err
}

// TestEnableMFADeviceWindow pins how far from now the two codes of EnableMFADevice may be:
// the second code's step within two steps (a minute) either side.
func TestEnableMFADeviceWindow(t *testing.T) {
	t.Parallel()
	f := newIDPFixture(t)
	f.mfaTestUser(t, "alice")
	now := mfaCode.Step(f.now)
	for i, tc := range []struct {
		name   string
		s1, s2 int64
		code   string
	}{
		{"ending now", now - 1, now, ""},
		{"ending two steps ago", now - 3, now - 2, ""},
		{"ending three steps ago", now - 4, now - 3, "InvalidAuthenticationCode"},
		{"ending two steps ahead", now + 1, now + 2, ""},
		{"ending three steps ahead", now + 2, now + 3, "InvalidAuthenticationCode"},
		{"not consecutive", now - 2, now, "InvalidAuthenticationCode"},
		{"the same step twice", now, now, "InvalidAuthenticationCode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			serial, seed := f.mfaTestDevice(t, fmt.Sprint("device-", i))
			if code := idpCode(t, f.enable("alice", serial, seed, tc.s1, tc.s2)); code != tc.code {
				t.Fatalf("EnableMFADevice error %q, want %q", code, tc.code)
			}
		})
	}
}

// TestMFACodeReplayAndDrift follows one device: codes work once, a resync measures the
// device's drift, and later codes are checked around the drifted time.
func TestMFACodeReplayAndDrift(t *testing.T) {
	t.Parallel()
	f := newIDPFixture(t)
	userID := f.mfaTestUser(t, "alice")
	serial, seed := f.mfaTestDevice(t, "phone")
	now := mfaCode.Step(f.now)
	if err := f.enable("alice", serial, seed, now-1, now); err != nil {
		t.Fatal(err)
	}
	verify := func(step int64) error {
		return f.svc.VerifyMFACode(f.ctx, f.account, serial, userID, mfaCode.CodeAt(seed, step))
	}
	resync := func(s1, s2 int64) error {
		_, err := f.svc.ResyncMFADevice(f.ctx, &iam.ResyncMFADeviceInput{
			UserName: aws.String("alice"), SerialNumber: aws.String(serial),
			AuthenticationCode1: aws.String(mfaCode.CodeAt(seed, s1)), AuthenticationCode2: aws.String(mfaCode.CodeAt(seed, s2)),
		})
		return err
	}
	for _, tc := range []struct {
		name   string
		do     func() error
		wantOK bool
	}{
		{"second enable code again", func() error { return verify(now) }, false},
		{"next step", func() error { return verify(now + 1) }, true},
		{"next step again", func() error { return verify(now + 1) }, false},
		{"two steps ahead, outside the window", func() error { return verify(now + 2) }, false},
		// The device runs ten minutes fast: a resync finds it within its wider window.
		{"resync 20 steps ahead", func() error { return resync(now+19, now+20) }, true},
		{"resync codes as sign-in codes", func() error { return verify(now + 20) }, false},
		{"code of the drifted now", func() error { return verify(now + 21) }, true},
		{"resync beyond ten minutes", func() error { return resync(now+41, now+42) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			if tc.wantOK && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.wantOK && !errors.Is(err, ErrInvalidMFACode) {
				t.Fatalf("error %v, want ErrInvalidMFACode", err)
			}
		})
	}
	// Time passes; the drift stays with the device.
	f.now = f.now.Add(5 * time.Minute)
	if err := verify(mfaCode.Step(f.now) + 20); err != nil {
		t.Fatalf("code of the drifted clock five minutes later: %v", err)
	}
	if err := verify(mfaCode.Step(f.now)); !errors.Is(err, ErrInvalidMFACode) {
		t.Fatalf("code of the undrifted clock: %v, want ErrInvalidMFACode", err)
	}
}

// TestVerifyMFACodeOnce races many verifications of one code: exactly one wins.
func TestVerifyMFACodeOnce(t *testing.T) {
	t.Parallel()
	f := newIDPFixture(t)
	userID := f.mfaTestUser(t, "alice")
	serial, seed := f.mfaTestDevice(t, "phone")
	now := mfaCode.Step(f.now)
	if err := f.enable("alice", serial, seed, now-2, now-1); err != nil {
		t.Fatal(err)
	}
	code := mfaCode.CodeAt(seed, now)
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted, refused := 0, 0
	for range 8 {
		wg.Go(func() {
			err := f.svc.VerifyMFACode(context.Background(), f.account, serial, userID, code)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				accepted++
			case errors.Is(err, ErrInvalidMFACode):
				refused++
			default:
				t.Errorf("VerifyMFACode: %v", err)
			}
		})
	}
	wg.Wait()
	if accepted != 1 || refused != 7 {
		t.Fatalf("%d accepted, %d refused; want 1 and 7", accepted, refused)
	}
}

func TestVerifyMFACodeRefusals(t *testing.T) {
	t.Parallel()
	f := newIDPFixture(t)
	alice := f.mfaTestUser(t, "alice")
	bob := f.mfaTestUser(t, "bob")
	serial, seed := f.mfaTestDevice(t, "phone")
	unassigned, spareSeed := f.mfaTestDevice(t, "spare")
	now := mfaCode.Step(f.now)
	if err := f.enable("alice", serial, seed, now-2, now-1); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, serial, user, code string
	}{
		{"another user's device", serial, bob, mfaCode.CodeAt(seed, now)},
		{"the root user, for a user's device", serial, f.account, mfaCode.CodeAt(seed, now)},
		{"an unassigned device", unassigned, alice, mfaCode.CodeAt(spareSeed, now)},
		{"a device that does not exist", "arn:aws:iam::" + f.account + ":mfa/none", alice, "123456"},
		{"a device of another account", "arn:aws:iam::999999999999:mfa/phone", alice, mfaCode.CodeAt(seed, now)},
		{"a hardware serial", "GAHT12345678", alice, "123456"},
		{"a wrong code", serial, alice, fmt.Sprintf("%06d", (atoiCode(mfaCode.CodeAt(seed, now))+1)%1000000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := f.svc.VerifyMFACode(f.ctx, f.account, tc.serial, tc.user, tc.code)
			if !errors.Is(err, ErrInvalidMFACode) || idpCode(t, err) != "InvalidAuthenticationCode" {
				t.Fatalf("VerifyMFACode = %v, want InvalidAuthenticationCode wrapping ErrInvalidMFACode", err)
			}
		})
	}
	// None of the refusals used up alice's current code.
	if err := f.svc.VerifyMFACode(f.ctx, f.account, serial, alice, mfaCode.CodeAt(seed, now)); err != nil {
		t.Fatalf("current code after refusals: %v", err)
	}
}

func atoiCode(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// TestMFASeedSealedAtRest reads the stored record: the seed is only there sealed, bound to
// the device's serial number.
func TestMFASeedSealedAtRest(t *testing.T) {
	t.Parallel()
	f := newIDPFixture(t)
	serial, seed := f.mfaTestDevice(t, "phone")
	var rec store.Record
	err := f.store.View(f.ctx, func(ctx context.Context, tx store.Tx) (err error) {
		key, _ := mfaDeviceKey(f.account, serial)
		rec, err = tx.Get(ctx, store.KindMFADevice, f.account, key)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range [][]byte{seed, []byte(totp.EncodeSeed(seed)), []byte(base64.StdEncoding.EncodeToString(seed))} {
		if bytes.Contains(rec.Data, form) {
			t.Fatalf("the stored device holds its seed in the clear: %s", rec.Data)
		}
	}
	var d store.MFADevice
	if err := store.Decode(rec, &d); err != nil {
		t.Fatal(err)
	}
	opened, err := f.box.Open(d.SeedCiphertext, []byte(serial))
	if err != nil || !bytes.Equal(opened, seed) {
		t.Fatalf("sealed seed opens to %x, %v; want %x", opened, err, seed)
	}
	if _, err := f.box.Open(d.SeedCiphertext, []byte(serial+"x")); err == nil {
		t.Fatal("the sealed seed opens for another serial number")
	}
}

// TestDeleteUserMFACheck pins the query DeleteUser needs (in users.go) to refuse a user who
// has MFA devices: countMFADevices by the user's id.
func TestDeleteUserMFACheck(t *testing.T) {
	t.Parallel()
	f := newIDPFixture(t)
	alice := f.mfaTestUser(t, "alice")
	count := func() int {
		var n int
		err := f.store.View(f.ctx, func(ctx context.Context, tx store.Tx) (err error) {
			n, err = countMFADevices(ctx, tx, f.account, alice)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	serial, seed := f.mfaTestDevice(t, "phone")
	now := mfaCode.Step(f.now)
	for _, tc := range []struct {
		name string
		do   func() error
		want int
	}{
		{"none", func() error { return nil }, 0},
		{"enabled", func() error { return f.enable("alice", serial, seed, now-1, now) }, 1},
		{"deactivated", func() error {
			_, err := f.svc.DeactivateMFADevice(f.ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(serial)})
			return err
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.do(); err != nil {
				t.Fatal(err)
			}
			if n := count(); n != tc.want {
				t.Fatalf("countMFADevices = %d, want %d", n, tc.want)
			}
		})
	}
}
