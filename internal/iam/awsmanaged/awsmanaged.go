// Package awsmanaged holds the AWS-managed IAM policies that every account sees read-only:
// AdministratorAccess, ReadOnlyAccess and the rest, 1,485 of them, with their paths, default
// version ids, dates and default documents.
//
// The data is embedded (from the moto project, Apache-2.0, which imports it from AWS) and
// parsed on first use, not at program start: a process that never touches a managed policy
// pays nothing. Only metadata and one compact document string per policy are kept.
package awsmanaged

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

//go:embed aws-managed-policies.json.gz
var compressed []byte

// ARNPrefix begins the ARN of every AWS-managed policy; the policy's path and name follow.
const ARNPrefix = "arn:aws:iam::aws:policy"

// Policy is one AWS-managed policy. Its only version is the default one: AWS's older versions
// are not part of the data.
type Policy struct {
	Name             string
	Path             string // begins and ends with "/"
	ARN              string
	ID               string // ANPA..., stable across processes (derived from the ARN)
	DefaultVersionID string
	CreateDate       time.Time
	UpdateDate       time.Time
	Document         string // the default version's JSON, compact
	sortKey          string
}

// SortKey orders policies as Gatehouse lists them: by lower-case name, the way IAM names
// compare.
func (p *Policy) SortKey() string { return p.sortKey }

// Set is the parsed catalogue, sorted by SortKey. It is immutable and safe for concurrent use.
type Set struct {
	list  []Policy
	byARN map[string]int
}

// Load parses the embedded catalogue. Most callers want Default, which parses it once.
func Load() (*Set, error) { return parse(compressed) }

// Default returns the catalogue, parsing it on the first call only.
var Default = sync.OnceValues(Load)

// raw is one entry of the data file.
type raw struct {
	Path             string
	DefaultVersionID string `json:"DefaultVersionId"`
	CreateDate       time.Time
	UpdateDate       time.Time
	Document         json.RawMessage
}

func parse(gz []byte) (*Set, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("awsmanaged: open data: %w", err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("awsmanaged: read data: %w", err)
	}
	var entries map[string]raw
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, fmt.Errorf("awsmanaged: decode data: %w", err)
	}
	s := &Set{list: make([]Policy, 0, len(entries)), byARN: make(map[string]int, len(entries))}
	var doc bytes.Buffer
	for name, e := range entries {
		if !strings.HasPrefix(e.Path, "/") || !strings.HasSuffix(e.Path, "/") || e.DefaultVersionID == "" {
			return nil, fmt.Errorf("awsmanaged: policy %s has path %q and default version %q", name, e.Path, e.DefaultVersionID)
		}
		doc.Reset()
		if err := json.Compact(&doc, e.Document); err != nil {
			return nil, fmt.Errorf("awsmanaged: document of %s: %w", name, err)
		}
		arn := ARNPrefix + e.Path + name
		s.list = append(s.list, Policy{
			Name:             name,
			Path:             e.Path,
			ARN:              arn,
			ID:               policyID(arn),
			DefaultVersionID: e.DefaultVersionID,
			CreateDate:       e.CreateDate.UTC(),
			UpdateDate:       e.UpdateDate.UTC(),
			Document:         doc.String(),
			sortKey:          strings.ToLower(name),
		})
	}
	sort.Slice(s.list, func(i, j int) bool { return s.list[i].sortKey < s.list[j].sortKey })
	for i := range s.list {
		if i > 0 && s.list[i].sortKey == s.list[i-1].sortKey {
			return nil, fmt.Errorf("awsmanaged: policies %s and %s differ only in case", s.list[i-1].Name, s.list[i].Name)
		}
		s.byARN[s.list[i].ARN] = i
	}
	return s, nil
}

// idEncoding spells ids with AWS's unique-id alphabet.
var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// policyID derives a policy id from the ARN, so that it never changes between processes or
// nodes. (AWS's real ids are not in the data.)
func policyID(arn string) string {
	sum := sha256.Sum256([]byte(arn))
	return "ANPA" + idEncoding.EncodeToString(sum[:])[:17]
}

// Len is the number of policies.
func (s *Set) Len() int { return len(s.list) }

// At returns the i-th policy in SortKey order; the pointer is shared and must not be modified.
func (s *Set) At(i int) *Policy { return &s.list[i] }

// Lookup finds a policy by ARN (case-sensitive, as IAM compares ARNs); nil when there is none.
func (s *Set) Lookup(arn string) *Policy {
	i, ok := s.byARN[arn]
	if !ok {
		return nil
	}
	return &s.list[i]
}

// Search returns the index of the first policy whose SortKey is not less than key.
func (s *Set) Search(key string) int {
	return sort.Search(len(s.list), func(i int) bool { return s.list[i].sortKey >= key })
}
