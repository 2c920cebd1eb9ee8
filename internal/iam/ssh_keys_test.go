package iam

import (
	"encoding/base64"
	"encoding/pem"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// sshFixture reads a key of testdata/ssh (made by ssh-keygen, see its README.md).
func sshFixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/ssh/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestParseSSHPublicKey: the encodings UploadSSHPublicKey takes ("The public key must be
// encoded in ssh-rsa format or PEM format. The minimum bit-length of the public key is 2048
// bits", IAM API Reference) and the fingerprint, which must equal what ssh-keygen -E md5 prints
// for the key (RFC 4716 section 4, as EC2 documents for its key pairs) whatever the encoding.
func TestParseSSHPublicKey(t *testing.T) {
	t.Parallel()
	rsa2048, rsa3072 := sshFixture(t, "rsa2048.pub"), sshFixture(t, "rsa3072.pub")
	md5of2048, md5of3072 := strings.TrimSpace(sshFixture(t, "rsa2048.md5")), strings.TrimSpace(sshFixture(t, "rsa3072.md5"))
	fields := strings.Fields(rsa2048)
	for _, tc := range []struct {
		name, body  string
		err         error
		fingerprint string
	}{
		{"OpenSSH with comment", rsa2048, nil, md5of2048},
		{"OpenSSH without comment", fields[0] + " " + fields[1], nil, md5of2048},
		{"OpenSSH 3072 bits", rsa3072, nil, md5of3072},
		{"X.509 PEM", sshFixture(t, "rsa2048.pkix.pem"), nil, md5of2048},
		{"PKCS#1 PEM", sshFixture(t, "rsa3072.pkcs1.pem"), nil, md5of3072},
		{"1024 bits", sshFixture(t, "rsa1024.pub"), errKeyTooShort, ""},
		{"ed25519", sshFixture(t, "ed25519.pub"), errKeyEncoding, ""},
		{"not a key", "hello", errKeyEncoding, ""},
		{"SSH2 format", "---- BEGIN SSH2 PUBLIC KEY ----\n" + fields[1] + "\n---- END SSH2 PUBLIC KEY ----", errKeyEncoding, ""},
		{"bad base64", "ssh-rsa AAAA!!!!", errKeyInvalid, ""},
		{"base64 of another type", "ssh-rsa " + strings.Fields(sshFixture(t, "ed25519.pub"))[1], errKeyInvalid, ""},
		{"truncated blob", "ssh-rsa " + fields[1][:len(fields[1])-8], errKeyInvalid, ""},
		{"two lines", fields[0] + " " + fields[1] + "\n" + fields[0] + " " + fields[1], errKeyInvalid, ""},
		{"type only", "ssh-rsa ", errKeyEncoding, ""},
		{"PEM private key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", errKeyEncoding, ""},
		{"corrupt PEM", strings.Replace(sshFixture(t, "rsa2048.pkix.pem"), "MII", "MIJ", 1), errKeyInvalid, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, err := parseSSHPublicKey(tc.body)
			if err != tc.err {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if err == nil && sshFingerprint(key) != tc.fingerprint {
				t.Fatalf("fingerprint %s, want ssh-keygen's %s", sshFingerprint(key), tc.fingerprint)
			}
		})
	}
}

// TestSSHPublicKeys follows a user's keys through every operation and error: the SSH and PEM
// encodings of GetSSHPublicKey ("-----BEGIN PUBLIC KEY-----", AWS CLI examples), AWS's
// NoSuchEntity text "The Public Key with id X cannot be found." (LocalStack's recorded AWS
// responses), five keys per user (IAM and AWS STS quotas), and DeleteUser's "Cannot delete
// entity, must remove referenced objects first." (rebuy-de/aws-nuke#522). A refused request
// changes nothing.
func TestSSHPublicKeys(t *testing.T) {
	t.Parallel()
	f := newIDPFixture(t)
	f.mfaTestUser(t, "alice")
	f.mfaTestUser(t, "bob")
	upload := func(user, body string) (*types.SSHPublicKey, error) {
		out, err := f.svc.UploadSSHPublicKey(f.ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String(user), SSHPublicKeyBody: aws.String(body)})
		if err != nil {
			return nil, err
		}
		return out.SSHPublicKey, nil
	}
	get := func(user, id string, enc types.EncodingType) (*types.SSHPublicKey, error) {
		out, err := f.svc.GetSSHPublicKey(f.ctx, &iam.GetSSHPublicKeyInput{UserName: aws.String(user), SSHPublicKeyId: aws.String(id), Encoding: enc})
		if err != nil {
			return nil, err
		}
		return out.SSHPublicKey, nil
	}
	count := func(user string) int {
		t.Helper()
		out, err := f.svc.ListSSHPublicKeys(f.ctx, &iam.ListSSHPublicKeysInput{UserName: aws.String(user)})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.SSHPublicKeys)
	}

	rsa2048, pkix := sshFixture(t, "rsa2048.pub"), sshFixture(t, "rsa2048.pkix.pem")
	ssh, err := upload("alice", rsa2048)
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(ssh.SSHPublicKeyId)
	if !strings.HasPrefix(id, "APKA") || len(id) != 20 || ssh.Status != types.StatusTypeActive || aws.ToString(ssh.Fingerprint) != strings.TrimSpace(sshFixture(t, "rsa2048.md5")) {
		t.Fatalf("uploaded %+v", ssh)
	}
	pemKey, err := upload("alice", sshFixture(t, "rsa3072.pkcs1.pem"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		id   string
		enc  types.EncodingType
		want string
	}{
		{"OpenSSH upload as SSH", id, types.EncodingTypeSsh, strings.TrimSpace(rsa2048)},
		{"OpenSSH upload as PEM", id, types.EncodingTypePem, pkix},
		{"PEM upload as SSH", aws.ToString(pemKey.SSHPublicKeyId), types.EncodingTypeSsh, strings.Join(strings.Fields(sshFixture(t, "rsa3072.pub"))[:2], " ")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := get("alice", tc.id, tc.enc)
			if err != nil {
				t.Fatal(err)
			}
			if body := aws.ToString(got.SSHPublicKeyBody); body != tc.want {
				t.Fatalf("body %q, want %q", body, tc.want)
			}
		})
	}
	if block, _ := pem.Decode([]byte(pkix)); block == nil {
		t.Fatal("fixture is not PEM")
	}

	for _, tc := range []struct {
		name      string
		do        func() error
		code, msg string
	}{
		{"the same key again", func() error { _, err := upload("alice", pkix); return err }, "DuplicateSSHPublicKey", ""},
		{"the same key with another comment", func() error { _, err := upload("alice", strings.TrimSpace(rsa2048)+"-laptop"); return err }, "DuplicateSSHPublicKey", ""},
		{"too short", func() error { _, err := upload("alice", sshFixture(t, "rsa1024.pub")); return err }, "InvalidPublicKey", "The public key must be at least 2048 bits long."},
		{"ed25519", func() error { _, err := upload("alice", sshFixture(t, "ed25519.pub")); return err }, "UnrecognizedPublicKeyEncoding", ""},
		{"corrupt", func() error { _, err := upload("alice", "ssh-rsa AAAAB3NzaC1yc2E="); return err }, "InvalidPublicKey", ""},
		{"unknown user", func() error { _, err := upload("carol", rsa2048); return err }, "NoSuchEntity", "The user with name carol cannot be found."},
		{"another user's key", func() error { _, err := get("bob", id, types.EncodingTypeSsh); return err }, "NoSuchEntity", "The Public Key with id " + id + " cannot be found."},
		{"status Expired", func() error {
			_, err := f.svc.UpdateSSHPublicKey(f.ctx, &iam.UpdateSSHPublicKeyInput{UserName: aws.String("alice"), SSHPublicKeyId: aws.String(id), Status: types.StatusTypeExpired})
			return err
		}, "ValidationError", ""},
		{"update unknown", func() error {
			_, err := f.svc.UpdateSSHPublicKey(f.ctx, &iam.UpdateSSHPublicKeyInput{UserName: aws.String("alice"), SSHPublicKeyId: aws.String("APKAXXXXXXXXXXXXXXXXX"), Status: types.StatusTypeInactive})
			return err
		}, "NoSuchEntity", "The Public Key with id APKAXXXXXXXXXXXXXXXXX cannot be found."},
		{"delete unknown", func() error {
			_, err := f.svc.DeleteSSHPublicKey(f.ctx, &iam.DeleteSSHPublicKeyInput{UserName: aws.String("bob"), SSHPublicKeyId: aws.String(id)})
			return err
		}, "NoSuchEntity", "The Public Key with id " + id + " cannot be found."},
		{"delete a user with keys", func() error {
			_, err := f.svc.DeleteUser(f.ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
			return err
		}, "DeleteConflict", "Cannot delete entity, must remove referenced objects first."},
		{"the same key for another user", func() error { _, err := upload("bob", rsa2048); return err }, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, msg := awsErr(t, tc.do()); code != tc.code || (tc.msg != "" && msg != tc.msg) {
				t.Fatalf("error %s %q, want %s %q", code, msg, tc.code, tc.msg)
			}
		})
	}
	if n := count("alice"); n != 2 {
		t.Fatalf("after the refused uploads alice has %d keys, want 2", n)
	}

	if _, err := f.svc.UpdateSSHPublicKey(f.ctx, &iam.UpdateSSHPublicKeyInput{UserName: aws.String("alice"), SSHPublicKeyId: aws.String(id), Status: types.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	if got, err := get("alice", id, types.EncodingTypeSsh); err != nil || got.Status != types.StatusTypeInactive {
		t.Fatalf("after deactivating: %+v %v", got, err)
	}

	// Five keys per user: three more fit, the sixth does not. Keys that differ in their public
	// exponent are different keys, and cheaper to make than new moduli.
	keyWithExponent := func(e int) string {
		k := testRSAKey().PublicKey
		k.E = e
		return "ssh-rsa " + base64.StdEncoding.EncodeToString(sshRSABlob(&k))
	}
	for _, e := range []int{3, 5, 17} {
		if _, err := upload("alice", keyWithExponent(e)); err != nil {
			t.Fatal(err)
		}
	}
	if code, msg := awsErr(t, func() error { _, err := upload("alice", keyWithExponent(257)); return err }()); code != "LimitExceeded" || msg != "Cannot exceed quota for SSHPublicKeysPerUser: 5" {
		t.Fatalf("sixth key: %s %q", code, msg)
	}

	var ids []*string
	in := &iam.ListSSHPublicKeysInput{UserName: aws.String("alice"), MaxItems: aws.Int32(2)}
	for {
		out, err := f.svc.ListSSHPublicKeys(f.ctx, in)
		if err != nil || len(out.SSHPublicKeys) > 2 {
			t.Fatalf("page %+v %v", out, err)
		}
		for _, k := range out.SSHPublicKeys {
			ids = append(ids, k.SSHPublicKeyId)
		}
		if !out.IsTruncated {
			break
		}
		in.Marker = out.Marker
	}
	if len(ids) != maxSSHPublicKeysPerUser {
		t.Fatalf("listed %d keys in pages of 2, want %d", len(ids), maxSSHPublicKeysPerUser)
	}
	for _, id := range ids {
		if _, err := f.svc.DeleteSSHPublicKey(f.ctx, &iam.DeleteSSHPublicKeyInput{UserName: aws.String("alice"), SSHPublicKeyId: id}); err != nil {
			t.Fatal(err)
		}
	}
	if n := count("alice"); n != 0 {
		t.Fatalf("after deleting alice has %d keys", n)
	}
	if _, err := f.svc.DeleteUser(f.ctx, &iam.DeleteUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatalf("DeleteUser after deleting the keys: %v", err)
	}
}

// FuzzParseSSHPublicKey: the SSH key parser never panics, and a key it accepts is an RSA key of
// at least 2048 bits whose SSH encoding parses back to the same key.
func FuzzParseSSHPublicKey(f *testing.F) {
	for _, name := range []string{"rsa2048.pub", "rsa2048.pkix.pem", "rsa3072.pkcs1.pem", "rsa1024.pub", "ed25519.pub"} {
		f.Add(sshFixture(f, name))
	}
	f.Add("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAAQ==")
	f.Fuzz(func(t *testing.T, s string) {
		key, err := parseSSHPublicKey(s)
		if err != nil {
			return
		}
		if key.N.BitLen() < minSSHKeyBits {
			t.Fatalf("accepted a %d-bit key", key.N.BitLen())
		}
		again, err := parseSSHRSABlob(sshRSABlob(key))
		if err != nil || !again.Equal(key) {
			t.Fatalf("the SSH encoding of %q does not parse back: %v", s, err)
		}
	})
}
