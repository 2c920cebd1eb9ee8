package server

import (
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// logRequest writes the one "request" line of an answered API request: who (source IP, access
// key id, caller, user agent), what (action, outcome, status, and why an AccessDenied was
// denied) and how long it took. It never carries a secret, a signature or a session token.
func (s *Server) logRequest(r *http.Request, requestID string, o *outcome, latency time.Duration) {
	if !s.logger.Enabled(r.Context(), slog.LevelInfo) {
		return // below the log level, building the line would be wasted
	}
	outcome := "success"
	if o.err != nil {
		outcome = o.err.Code
	}
	attrs := []slog.Attr{
		slog.String("request_id", requestID),
		slog.String("action", o.action),
		slog.String("caller", o.caller),
		slog.String("access_key_id", o.accessKeyID),
		slog.String("source_ip", sourceIP(r)),
		slog.String("user_agent", r.UserAgent()),
		slog.String("outcome", outcome),
		slog.Int("status", o.status),
		slog.Float64("latency_ms", float64(latency.Microseconds())/1000),
	}
	if outcome == "AccessDenied" {
		attrs = append(attrs, slog.String("denial_reason", denialReason(o.err.Message)))
	}
	s.logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
}

// SourceIP is sourceIP, for the other fronts (forward-auth's audit events).
func SourceIP(r *http.Request) string { return sourceIP(r) }

// sourceIP is the client's address without its port: r.RemoteAddr, which ClientAddress has
// set to the client's when a trusted proxy forwarded the request (as aws:SourceIp reports).
func sourceIP(r *http.Request) string {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return ip
}

// encodedMessageMarker starts the sealed details some AccessDenied messages end with; they are
// for sts:DecodeAuthorizationMessage, not the log.
const encodedMessageMarker = " Encoded authorization failure message: "

// denialReason is why an AccessDenied message says the request was denied: the tail of
// "... because no identity-based policy allows the iam:CreateUser action" or "... with an
// explicit deny in an identity-based policy" (authz.DeniedMessage), and otherwise (a trust
// policy, for which AWS gives no reason; "Cannot call ... with session credentials") the whole
// message. The encoded authorization message is left out.
func denialReason(msg string) string {
	msg, _, _ = strings.Cut(msg, encodedMessageMarker)
	if i := strings.LastIndex(msg, " because "); i >= 0 {
		return msg[i+len(" because "):]
	}
	if i := strings.LastIndex(msg, " with an explicit deny in "); i >= 0 {
		return msg[i+len(" with an "):]
	}
	return msg
}
