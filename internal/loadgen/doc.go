// Package loadgen is Gatehouse's load generator: it drives a running IAM/STS endpoint (Gatehouse,
// moto_server or AWS itself) with N concurrent clients, each a closed loop of SigV4-signed AWS
// Query requests, and reports requests per second and latency percentiles per operation.
//
// Each operation runs as its own phase, one after another, so the numbers of one operation are
// not mixed with another's. A phase has a warm-up (requests sent, nothing counted) and then a
// measured window: a request counts when its response completes inside the window, and req/s is
// the number of successful (HTTP 200) responses divided by the window's length. Latency is the
// time from sending a signed request to having read its whole response body; it is recorded for
// successful requests into per-client histograms with under 0.4% relative error, merged at the
// end of the phase.
//
// The generator shares the machine with the server it measures, so its hot path is lean: no SDK
// middleware stack, request bodies and payload hashes precomputed where they are constant, one
// reused request and header map per client, and one shared HTTP transport that keeps a kept-alive
// connection per client.
package loadgen
