package totp

import (
	"fmt"
	"net/url"
	"strings"

	goqr "github.com/piglig/go-qr"
)

// URI is the otpauth:// key URI of a TOTP seed, the format authenticator apps read from a QR
// code: otpauth://totp/LABEL?secret=BASE32[&issuer=ISSUER]. The default parameters (SHA1, six
// digits, 30 s) are left implicit, as apps assume them.
func URI(label string, seed []byte, issuer string) string {
	q := "secret=" + EncodeSeed(seed)
	if issuer != "" {
		q += "&issuer=" + strings.ReplaceAll(url.QueryEscape(issuer), "+", "%20")
	}
	return "otpauth://totp/" + url.PathEscape(label) + "?" + q
}

// QRCodePNG renders text as a QR code PNG (medium error correction, 4 pixels a module and the
// standard 4-module quiet zone), small enough for an API response and easy for phones to scan.
func QRCodePNG(text string) ([]byte, error) {
	code, err := goqr.EncodeText(text, goqr.Medium)
	if err != nil {
		return nil, fmt.Errorf("totp: qr code: %w", err)
	}
	png, err := code.ToPNGBytes(goqr.NewQrCodeImgConfig(4, 4))
	if err != nil {
		return nil, fmt.Errorf("totp: qr code png: %w", err)
	}
	return png, nil
}
