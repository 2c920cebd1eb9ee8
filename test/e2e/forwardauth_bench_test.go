package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/sigv4"
)

// BenchmarkForwardAuth measures allowed GetOrder requests signed by aws-sdk-go-v2's signer,
// in parallel on loopback: through a real nginx (auth_request to Gatehouse, then the orders
// service), and straight to /forward-auth as Envoy sends them (Gatehouse's decisions alone).
// req/s is 1e9 / (ns/op); the server, nginx and the clients share the machine's cores.
func BenchmarkForwardAuth(b *testing.B) {
	if nginxBinary() == "" {
		b.Skip("nginx is not installed (apt-get install nginx): skipping the forward-auth benchmark")
	}
	servicesFile, err := filepath.Abs("testdata/services.yaml")
	if err != nil {
		b.Fatal(err)
	}
	e := benchEnvWith(b, func(c *config.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		c.ServicesFile = servicesFile
	})
	svc := ordersService(b)
	front := "http://" + startForwardAuthNginx(b, strings.TrimPrefix(e.URL, "http://"), strings.TrimPrefix(svc.URL, "http://"), "orders")
	ctx := context.Background()
	creds := userWithPolicy(b, e, "clerk", fmt.Sprintf(ordersPolicy, e.Account))
	transport := &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute}
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	b.Cleanup(transport.CloseIdleConnections)
	for _, via := range []struct{ name, base, prefix string }{
		{"nginx", front, ""},
		{"direct", e.URL, "/forward-auth/orders"}, // as Envoy's ext_authz asks: the path under the prefix
	} {
		b.Run("via="+via.name, func(b *testing.B) {
			b.SetParallelism(4) // 8 clients on 2 cores
			b.RunParallel(func(pb *testing.PB) {
				signer := v4.NewSigner()
				for pb.Next() {
					req, err := http.NewRequest(http.MethodGet, via.base+"/orders/17", nil)
					if err != nil {
						b.Error(err)
						return
					}
					if err := signer.SignHTTP(ctx, creds, req, sigv4.EmptyPayloadHash, "orders", "eu-west-1", time.Now()); err != nil {
						b.Error(err)
						return
					}
					req.URL.Path = via.prefix + req.URL.Path // signed as the client's path
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d: %s", resp.StatusCode, resp.Header.Get("X-Gatehouse-Error"))
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
