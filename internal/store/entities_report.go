package store

import "time"

// CredentialReportKey is the Key of an account's KindCredentialReport record: an account has
// one report, its latest.
const CredentialReportKey = "report"

// CredentialReport is an account's latest credential report, as GetCredentialReport returns it.
type CredentialReport struct {
	GeneratedTime time.Time `json:"generated"`
	// Content is the CSV document, with AWS's columns.
	Content []byte `json:"csv"`
}
