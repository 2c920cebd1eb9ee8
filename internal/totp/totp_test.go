package totp_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"image/png"
	"os"
	"strings"
	"testing"
	"time"

	goqr "github.com/piglig/go-qr"

	"github.com/gatehouse-iam/gatehouse/internal/totp"
)

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// TestRFC6238 checks the test vectors of RFC 6238 appendix B: eight digits, 30-second steps,
// and the RFC's seed for each hash function.
func TestRFC6238(t *testing.T) {
	t.Parallel()
	var vectors []struct {
		Time   int64  `json:"time"`
		SHA1   string `json:"sha1"`
		SHA256 string `json:"sha256"`
		SHA512 string `json:"sha512"`
	}
	readJSON(t, "rfc6238.json", &vectors)
	seeds := map[totp.Algorithm][]byte{
		totp.SHA1:   []byte("12345678901234567890"),
		totp.SHA256: []byte("12345678901234567890123456789012"),
		totp.SHA512: []byte("1234567890123456789012345678901234567890123456789012345678901234"),
	}
	for _, v := range vectors {
		for alg, want := range map[totp.Algorithm]string{totp.SHA1: v.SHA1, totp.SHA256: v.SHA256, totp.SHA512: v.SHA512} {
			p := totp.Params{Digits: 8, Period: 30 * time.Second, Algorithm: alg}
			if got := p.Code(seeds[alg], time.Unix(v.Time, 0)); got != want {
				t.Errorf("time %d algorithm %d: code %s, want %s", v.Time, alg, got, want)
			}
		}
	}
	if len(vectors) != 6 {
		t.Fatalf("read %d vectors, want the RFC's 6", len(vectors))
	}
}

// TestRFC4226 checks HOTP, which TOTP builds on, with the vectors of RFC 4226 appendix D.
func TestRFC4226(t *testing.T) {
	t.Parallel()
	var want []string
	readJSON(t, "rfc4226.json", &want)
	seed := []byte("12345678901234567890")
	for counter, code := range want {
		if got := totp.Default.CodeAt(seed, int64(counter)); got != code {
			t.Errorf("counter %d: %s, want %s", counter, got, code)
		}
	}
}

func TestStep(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		unix int64
		want int64
	}{
		{0, 0}, {29, 0}, {30, 1}, {59, 1}, {1111111109, 37037036}, {-1, -1}, {-30, -1}, {-31, -2},
	} {
		if got := totp.Default.Step(time.Unix(tc.unix, 0)); got != tc.want {
			t.Errorf("Step(%d) = %d, want %d", tc.unix, got, tc.want)
		}
	}
}

func TestSeedRoundTrip(t *testing.T) {
	t.Parallel()
	seed, err := totp.NewSeed()
	if err != nil {
		t.Fatal(err)
	}
	enc := totp.EncodeSeed(seed)
	if len(enc) != 64 || strings.ContainsAny(enc, "=abcdefghijklmnopqrstuvwxyz") {
		t.Fatalf("EncodeSeed = %q, want 64 upper-case Base32 characters without padding", enc)
	}
	for name, typed := range map[string]string{
		"as given":        enc,
		"lower case":      strings.ToLower(enc),
		"grouped by four": strings.Join(splitEvery(enc, 4), " "),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := totp.DecodeSeed(typed)
			if err != nil || !bytes.Equal(got, seed) {
				t.Fatalf("DecodeSeed(%q) = %x, %v; want %x", typed, got, err, seed)
			}
		})
	}
}

func splitEvery(s string, n int) []string {
	var out []string
	for len(s) > n {
		out, s = append(out, s[:n]), s[n:]
	}
	return append(out, s)
}

func TestDecodeSeedErrors(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"empty":            "",
		"only spaces":      "   ",
		"digit 1":          "ABC1EFGH",
		"digit 8":          "ABCDEFG8",
		"bad final length": "A",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := totp.DecodeSeed(in); !errors.Is(err, totp.ErrSeed) {
				t.Fatalf("DecodeSeed(%q) error = %v, want ErrSeed", in, err)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	seed := []byte("12345678901234567890")
	p := totp.Default
	const center = 1000
	for _, tc := range []struct {
		name     string
		codeStep int64
		last     int64
		window   int64
		wantOK   bool
	}{
		{"current step", center, 0, 1, true},
		{"one step behind", center - 1, 0, 1, true},
		{"one step ahead", center + 1, 0, 1, true},
		{"two steps behind, window 1", center - 2, 0, 1, false},
		{"two steps behind, window 2", center - 2, 0, 2, true},
		{"replayed: step already used", center, center, 1, false},
		{"older than the last step used", center - 1, center, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			step, ok := p.Verify(seed, p.CodeAt(seed, tc.codeStep), center, tc.window, tc.last)
			if ok != tc.wantOK {
				t.Fatalf("Verify ok = %v, want %v", ok, tc.wantOK)
			}
			if ok && step != tc.codeStep {
				t.Fatalf("Verify step = %d, want %d", step, tc.codeStep)
			}
		})
	}
	if _, ok := p.Verify(seed, "000000", center, 1, 0); ok && p.CodeAt(seed, center) != "000000" {
		t.Fatal("Verify accepted a wrong code")
	}
}

func TestVerifyPair(t *testing.T) {
	t.Parallel()
	seed := []byte("12345678901234567890")
	p := totp.Default
	const center = 5000
	code := func(s int64) string { return p.CodeAt(seed, s) }
	for _, tc := range []struct {
		name         string
		code1, code2 string
		last         int64
		want         int64
		wantOK       bool
	}{
		{"consecutive, ending now", code(center - 1), code(center), 0, center, true},
		{"consecutive, starting now", code(center), code(center + 1), 0, center + 1, true},
		{"same code twice", code(center), code(center), 0, 0, false},
		{"reversed", code(center), code(center - 1), 0, 0, false},
		{"a step apart", code(center - 1), code(center + 1), 0, 0, false},
		{"outside the window", code(center - 10), code(center - 9), 0, 0, false},
		{"first code already used", code(center - 1), code(center), center - 1, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := p.VerifyPair(seed, tc.code1, tc.code2, center, 2, tc.last)
			if ok != tc.wantOK || (ok && got != tc.want) {
				t.Fatalf("VerifyPair = %d, %v; want %d, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestURIAndQRCode(t *testing.T) {
	t.Parallel()
	seed := []byte("12345678901234567890")
	for _, tc := range []struct {
		label, issuer, want string
	}{
		{"alice@123456789012", "", "otpauth://totp/alice@123456789012?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"},
		{"ops/bob@123456789012", "Gatehouse IAM", "otpauth://totp/ops%2Fbob@123456789012?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Gatehouse%20IAM"},
	} {
		t.Run(tc.label, func(t *testing.T) {
			uri := totp.URI(tc.label, seed, tc.issuer)
			if uri != tc.want {
				t.Fatalf("URI = %q, want %q", uri, tc.want)
			}
			data, err := totp.QRCodePNG(uri)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("QRCodePNG is not a PNG: %v", err)
			}
			text, err := goqr.Decode(img)
			if err != nil {
				t.Fatalf("decode QR code: %v", err)
			}
			if text != uri {
				t.Fatalf("QR code holds %q, want %q", text, uri)
			}
		})
	}
}
