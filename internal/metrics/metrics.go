// Package metrics owns Gatehouse's Prometheus registry. The domain packages know nothing of
// Prometheus: they define small observer interfaces (server.Observer, console.SignInObserver)
// or expose plain counters (enforce.Enforcer.CacheStats), and this package adapts them to collectors.
//
// Label values come from bounded sets only: service signing names, operation names of the
// API model ("unknown" for anything else), AWS error codes and sign-in failure reasons. No
// name, ARN, access key id or other caller-supplied value ever becomes a label.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "gatehouse"

// Metrics is one process's collectors on a registry of its own (never the global default).
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	authFailures *prometheus.CounterVec
	denials      *prometheus.CounterVec
	commits      prometheus.Histogram
	signIns      *prometheus.CounterVec
}

// requestBuckets span a cached read (well under a millisecond) to a slow durable write.
var requestBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// New returns Metrics with the Go runtime and process collectors registered.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "requests_total",
			Help: "API requests answered, by service, action (an operation of the API model, else unknown) and outcome (success or the AWS error code).",
		}, []string{"service", "action", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "request_duration_seconds",
			Help:    "Time to answer an API request, by service and action.",
			Buckets: requestBuckets,
		}, []string{"service", "action"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "authentication_failures_total",
			Help: "API requests refused because they could not be authenticated, by reason (the AWS error code).",
		}, []string{"reason"}),
		denials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "authorization_denials_total",
			Help: "Authenticated API requests answered AccessDenied, by service and action.",
		}, []string{"service", "action"}),
		commits: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "store_update_duration_seconds",
			Help:    "Time from a store write being asked for to its durable commit (or failure), including the wait for the group commit.",
			Buckets: requestBuckets,
		}),
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "console_signins_total",
			Help: "Console sign-in attempts, by outcome (success or the failure reason).",
		}, []string{"outcome"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.latency, m.authFailures, m.denials, m.commits, m.signIns,
	)
	return m
}

// Registry is where further collectors (the caches, the store) are registered.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text (or negotiated) exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Request implements server.Observer.
func (m *Metrics) Request(service, action, outcome string, latency time.Duration) {
	m.requests.WithLabelValues(service, action, outcome).Inc()
	m.latency.WithLabelValues(service, action).Observe(latency.Seconds())
}

// AuthenticationFailed implements server.Observer.
func (m *Metrics) AuthenticationFailed(reason string) {
	m.authFailures.WithLabelValues(reason).Inc()
}

// Denied implements server.Observer.
func (m *Metrics) Denied(service, action string) {
	m.denials.WithLabelValues(service, action).Inc()
}

// SignIn implements console.SignInObserver.
func (m *Metrics) SignIn(outcome string) {
	m.signIns.WithLabelValues(outcome).Inc()
}

// StoreUpdate records one store write's latency.
func (m *Metrics) StoreUpdate(d time.Duration) { m.commits.Observe(d.Seconds()) }
