package server

import (
	"bufio"
	"encoding/xml"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/sigv4"
)

// errorResponse is the Query protocol's ErrorResponse.
type errorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Type    string   `xml:"Error>Type"`
	Code    string   `xml:"Error>Code"`
	Message string   `xml:"Error>Message"`
	ID      string   `xml:"RequestId"`
}

// serveOnLoopback runs s behind its Listener on a real http.Server configured as app.Serve
// configures it, and returns the address.
func serveOnLoopback(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s, MaxHeaderBytes: MaxHeaderBytes - 4096, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(s.Listener(ln))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// rawRequest sends a POST whose X-Pad header brings the header section to about size bytes
// and returns the parsed response and its body.
func rawRequest(t *testing.T, addr string, size int) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const form = "Action=ListUsers&Version=2010-05-08"
	head := "POST / HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " + strconv.Itoa(len(form)) + "\r\n"
	pad := size - len(head) - len("X-Pad: \r\n\r\n")
	req := head + "X-Pad: " + strings.Repeat("a", pad) + "\r\n\r\n" + form
	go func() { _, _ = io.WriteString(c, req) }() // the server may answer before reading it all
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, string(body)
}

// TestHeaderSectionTooLarge checks the answer to header sections around MaxHeaderBytes: within
// it the request reaches the handler (which refuses it unsigned); beyond it the client gets
// an XML ErrorResponse with RequestHeaderSectionTooLarge (S3's code for it; AWS documents none
// for IAM and STS) instead of net/http's plain-text 431.
func TestHeaderSectionTooLarge(t *testing.T) {
	t.Parallel()
	iamSvc, err := awsquery.NewService("IAM", "iam")
	if err != nil {
		t.Fatal(err)
	}
	s := New(nil, nil, sigv4.NewVerifier(time.Now), slog.New(slog.DiscardHandler), iamSvc)
	addr := serveOnLoopback(t, s)
	tests := []struct {
		name   string
		size   int
		status int
		code   string
	}{
		{"size=1KiB", 1 << 10, http.StatusForbidden, "MissingAuthenticationToken"},
		{"size=just within the limit", MaxHeaderBytes - 200, http.StatusForbidden, "MissingAuthenticationToken"},
		{"size=just over the limit", MaxHeaderBytes + 100, http.StatusBadRequest, "RequestHeaderSectionTooLarge"},
		{"size=1MiB", 1 << 20, http.StatusBadRequest, "RequestHeaderSectionTooLarge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := rawRequest(t, addr, tt.size)
			if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != "text/xml" {
				t.Fatalf("status %d, Content-Type %q, want %d text/xml\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), tt.status, body)
			}
			var e errorResponse
			if err := xml.Unmarshal([]byte(body), &e); err != nil {
				t.Fatalf("body is not an ErrorResponse: %v\n%s", err, body)
			}
			if e.Code != tt.code || e.Type != "Sender" || e.ID == "" || e.ID != resp.Header.Get("x-amzn-RequestId") {
				t.Fatalf("error %+v, want code %s from the Sender with the response's request id", e, tt.code)
			}
			if tt.code == "RequestHeaderSectionTooLarge" {
				if want := "Your request header section exceeds the maximum allowed size of 65536 bytes; send fewer or smaller headers."; e.Message != want {
					t.Errorf("message %q, want %q", e.Message, want)
				}
				if !resp.Close {
					t.Error("the connection is kept open after the refusal")
				}
			}
		})
	}
}
