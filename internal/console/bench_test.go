package console_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse-iam/gatehouse/internal/principal"
)

// Benchmarks of the console's costly pages, on a server in this process (so the CPU figures
// include the benchmark's own HTTP client, a small part):
//
//	go test ./internal/console -run '^$' -bench . -benchtime 200x
//
// BenchmarkUsersPage lists the first page of 10,000 users, BenchmarkUsersSearch searches them;
// BenchmarkSignIn signs an IAM user in with its password (argon2id).

// benchServer is a running server with users (created through the IAM Go API, which the
// API's handlers call), the first of them with a console password.
func benchServer(b *testing.B, users int) (base, account string) {
	b.Helper()
	e := newConsoleEnv(b)
	rc := principal.NewContext(context.Background(), &principal.Principal{Type: principal.Root, Account: e.Account, ARN: "arn:aws:iam::" + e.Account + ":root", UserID: e.Account})
	for i := range users {
		if _, err := e.app.IAM.CreateUser(rc, &iam.CreateUserInput{UserName: aws.String(fmt.Sprintf("user-%05d", i))}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := e.app.IAM.CreateLoginProfile(rc, &iam.CreateLoginProfileInput{UserName: aws.String("user-00000"), Password: aws.String("Bench-user-pw-1!")}); err != nil {
		b.Fatal(err)
	}
	return e.URL, e.Account
}

var benchCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// benchSignIn signs in through the form and returns a client holding the session cookie.
func benchSignIn(b *testing.B, base, account, user, pw string) *http.Client {
	b.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(base + "/console")
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := benchCSRF.FindSubmatch(body)
	if m == nil {
		b.Fatal("no CSRF token on the sign-in page")
	}
	form := url.Values{"csrf": {string(m[1])}, "account": {account}, "username": {user}, "password": {pw}}
	if user == "" {
		form.Set("root", "on")
	}
	resp, err = c.PostForm(base+"/console", form)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if !strings.HasSuffix(resp.Request.URL.Path, "/console/iam/") {
		b.Fatalf("sign-in ended at %s (status %d)", resp.Request.URL, resp.StatusCode)
	}
	return c
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the process's CPU time per operation since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e6, "cpu-ms/op")
}

func BenchmarkUsersPage(b *testing.B) {
	base, account := benchServer(b, 10000)
	c := benchSignIn(b, base, account, "", rootPassword)
	cpu := cpuTime()
	b.ResetTimer()
	for range b.N {
		resp, err := c.Get(base + "/console/iam/users")
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "user-00049") || strings.Contains(string(body), `id="error"`) {
			b.Fatalf("users page: status %d", resp.StatusCode)
		}
	}
	b.StopTimer()
	reportCPU(b, cpu)
}

// BenchmarkUsersSearch searches the 10,000 names for one near the end.
func BenchmarkUsersSearch(b *testing.B) {
	base, account := benchServer(b, 10000)
	c := benchSignIn(b, base, account, "", rootPassword)
	cpu := cpuTime()
	b.ResetTimer()
	for range b.N {
		resp, err := c.Get(base + "/console/iam/users?search=user-0999")
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "user-09999") {
			b.Fatalf("users search: status %d", resp.StatusCode)
		}
	}
	b.StopTimer()
	reportCPU(b, cpu)
}

func BenchmarkSignIn(b *testing.B) {
	base, account := benchServer(b, 1)
	cpu := cpuTime()
	b.ResetTimer()
	for range b.N {
		benchSignIn(b, base, account, "user-00000", "Bench-user-pw-1!")
	}
	b.StopTimer()
	reportCPU(b, cpu)
}
