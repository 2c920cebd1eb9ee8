package iam

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/entity"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// caller is the authenticated principal; the HTTP layer never runs a handler without one.
func caller(ctx context.Context) *principal.Principal {
	p := principal.FromContext(ctx)
	if p == nil {
		panic("iam: handler called without an authenticated principal")
	}
	return p
}

func defaultPath(p *string) string {
	if p == nil || *p == "" {
		return "/"
	}
	return *p
}

// page is one page of a List operation.
type page struct {
	after string
	limit int
}

// pageOf reads Marker and MaxItems (1..1000, default 100; the model checks the range).
func pageOf(marker *string, maxItems *int32) (page, error) {
	p := page{limit: 100}
	if maxItems != nil {
		p.limit = int(*maxItems)
	}
	if marker != nil && *marker != "" {
		after, ok := decodeMarker(*marker)
		if !ok {
			return p, invalidMarker()
		}
		p.after = after
	}
	return p, nil
}

// invalidMarker is IAM's answer to a Marker it did not issue (ValidationError "Invalid
// Marker.", as LocalStack recorded AWS answering ListVirtualMFADevices).
func invalidMarker() error { return awsquery.ValidationError("Invalid Marker.") }

// markerEncoding spells Marker values. Decoding is strict, so that a marker has one spelling
// (a lenient decoder ignores the unused low bits of the last character).
var markerEncoding = base64.RawURLEncoding.Strict()

func encodeMarker(s string) *string { return aws.String(markerEncoding.EncodeToString([]byte(s))) }

// decodeMarker returns what a Marker encodes; ok is false when m is not a marker's spelling.
func decodeMarker(m string) (string, bool) {
	// Even a strict decoder skips CR and LF, which would be further spellings.
	if strings.ContainsAny(m, "\r\n") {
		return "", false
	}
	b, err := markerEncoding.DecodeString(m)
	return string(b), err == nil
}

// list runs q with one extra record to learn whether the page is truncated; it returns the
// records of the page, IsTruncated and the next Marker.
func list(ctx context.Context, tx store.Tx, kind store.Kind, account string, q store.Query, p page) ([]store.Record, bool, *string, error) {
	q.After, q.Limit = p.after, p.limit+1
	recs, err := tx.List(ctx, kind, account, q)
	if err != nil {
		return nil, false, nil, err
	}
	return cut(recs, p.limit, func(r store.Record) string { return r.Key })
}

// listByPath runs a List operation over one kind of entity in account: Marker/MaxItems paging
// and the PathPrefix filter, each record decoded as T and converted to the SDK's element S.
// The list is never nil: AWS always writes the list element.
func listByPath[T, S any](ctx context.Context, s *Service, kind store.Kind, account string, marker *string, maxItems *int32, pathPrefix *string, convert func(context.Context, store.Tx, *T) (S, error)) ([]S, bool, *string, error) {
	pg, err := pageOf(marker, maxItems)
	if err != nil {
		return nil, false, nil, err
	}
	prefix, err := validatePathPrefix(pathPrefix)
	if err != nil {
		return nil, false, nil, err
	}
	items := []S{}
	var truncated bool
	var next *string
	err = s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		recs, t, n, err := list(ctx, tx, kind, account, store.Query{PathPrefix: prefix}, pg)
		if err != nil {
			return err
		}
		for _, r := range recs {
			v := new(T)
			if err := store.Decode(r, v); err != nil {
				return err
			}
			item, err := convert(ctx, tx, v)
			if err != nil {
				return err
			}
			items = append(items, item)
		}
		truncated, next = t, n
		return nil
	})
	if err != nil {
		return nil, false, nil, err
	}
	return items, truncated, next, nil
}

// cut trims items to limit and makes the marker from the last kept item's key.
func cut[T any](items []T, limit int, key func(T) string) ([]T, bool, *string, error) {
	if len(items) <= limit {
		return items, false, nil, nil
	}
	items = items[:limit]
	return items, true, encodeMarker(key(items[limit-1])), nil
}

// validatePathPrefix checks a PathPrefix filter, which must look like a path.
func validatePathPrefix(p *string) (string, error) {
	if p == nil || *p == "" {
		return "/", nil
	}
	if !strings.HasPrefix(*p, "/") {
		// AWS's text (aws/aws-cli#5860); the model's patterns catch this before the handler.
		return "", awsquery.ValidationError("The specified value for pathPrefix is invalid. It must begin with the / character and contain only alphanumeric characters and/or / characters.")
	}
	return *p, nil
}

// validatePath checks what the model's pattern cannot: IAM paths begin and end with a slash.
func validatePath(p *string) error {
	if p == nil {
		return nil
	}
	if !strings.HasPrefix(*p, "/") || !strings.HasSuffix(*p, "/") {
		return awsquery.ValidationError("The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	return nil
}

// maxTags is IAM's quota of tags per resource.
const maxTags = 50

// tagsFromInput validates tags given on create or TagX; keys must be unique ignoring case.
func tagsFromInput(in []types.Tag) ([]store.Tag, error) {
	seen := map[string]bool{}
	out := make([]store.Tag, 0, len(in))
	for _, t := range in {
		k := strings.ToLower(aws.ToString(t.Key))
		if seen[k] {
			return nil, awsquery.InvalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		if strings.HasPrefix(k, "aws:") {
			return nil, awsquery.InvalidInput("User-created tag keys can't begin with the reserved prefix 'aws:'.")
		}
		seen[k] = true
		out = append(out, store.Tag{Key: aws.ToString(t.Key), Value: aws.ToString(t.Value)})
	}
	return out, nil
}

// mergeTags adds or overwrites tags (keys compared ignoring case, as IAM does) within the quota.
func mergeTags(have []store.Tag, add []types.Tag) ([]store.Tag, error) {
	in, err := tagsFromInput(add)
	if err != nil {
		return nil, err
	}
	out := append([]store.Tag(nil), have...)
	for _, t := range in {
		replaced := false
		for i := range out {
			if strings.EqualFold(out[i].Key, t.Key) {
				out[i] = t
				replaced = true
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	if len(out) > maxTags {
		return nil, awsquery.LimitExceeded("The number of tags has reached the maximum limit.")
	}
	return out, nil
}

// removeTags drops the tags whose keys are listed (ignoring case).
func removeTags(have []store.Tag, keys []string) []store.Tag {
	out := make([]store.Tag, 0, len(have))
	for _, t := range have {
		drop := false
		for _, k := range keys {
			if strings.EqualFold(t.Key, k) {
				drop = true
			}
		}
		if !drop {
			out = append(out, t)
		}
	}
	return out
}

// sdkTags converts stored tags, sorted by key as IAM lists them; nil when there are none, so
// the XML leaves the element out.
func sdkTags(tags []store.Tag) []types.Tag {
	if len(tags) == 0 {
		return nil
	}
	sorted := sortedTags(tags)
	out := make([]types.Tag, len(sorted))
	for i, t := range sorted {
		out[i] = types.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)}
	}
	return out
}

// sortedTags returns tags sorted by key, case-sensitively ("A" before "a"), as IAM lists the
// tags of every entity (LocalStack's recordings of AWS, test_iam_policies.snapshot.json:
// ListPolicyTags lists A before a).
func sortedTags(tags []store.Tag) []store.Tag {
	out := slices.Clone(tags)
	slices.SortFunc(out, func(a, b store.Tag) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// isNotFound and isExists test store sentinels.
func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
func isExists(err error) bool   { return errors.Is(err, store.ErrExists) }

// resolvePolicyARN finds the managed policy, customer- or AWS-managed, that an ARN names for
// account, for attaching it or using it as a permissions boundary. A missing policy is AWS's
// NoSuchEntity; a string that is not an ARN at all is InvalidInput.
func resolvePolicyARN(ctx context.Context, tx store.Tx, account, policyARN string) (*entity.ManagedPolicy, error) {
	m, err := entity.FindPolicy(ctx, tx, account, policyARN)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, awsquery.NoSuchEntity("Policy %s does not exist or is not attachable.", policyARN)
	}
	return m, nil
}

// boundaryFor checks a PermissionsBoundary ARN (a customer- or AWS-managed policy) and returns
// the ARN to store on the user or role; "" when none is given.
func boundaryFor(ctx context.Context, tx store.Tx, account string, boundaryARN *string) (string, error) {
	if boundaryARN == nil {
		return "", nil
	}
	m, err := entity.FindPolicy(ctx, tx, account, *boundaryARN)
	if err != nil {
		return "", err
	}
	if m == nil {
		return "", awsquery.NoSuchEntity("Scope ARN: %s does not exist or is not attachable.", *boundaryARN)
	}
	return m.ARN, nil
}

// sdkBoundary is the PermissionsBoundary element of a user or role, nil when there is none.
func sdkBoundary(boundaryARN string) *types.AttachedPermissionsBoundary {
	if boundaryARN == "" {
		return nil
	}
	return &types.AttachedPermissionsBoundary{
		PermissionsBoundaryArn:  aws.String(boundaryARN),
		PermissionsBoundaryType: types.PermissionsBoundaryAttachmentTypePolicy,
	}
}
