package sts

import (
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
)

func invalidParameter(format string, args ...any) error {
	return awsquery.Errorf(http.StatusBadRequest, "InvalidParameterValue", format, args...)
}

// sessionTags validates the session tags and transitive tag keys of a request and merges them
// with the transitive tags of the calling role session (role chaining), which carry over and
// cannot be overridden. It returns the session's tags and transitive keys, and the keys the
// request itself set (for aws:TagKeys). From the IAM User Guide, "Passing session tags in
// AWS STS": at most 50 tags, keys compared without case, no "aws:" prefix, transitive keys
// must name requested tags.
func sessionTags(tags []types.Tag, transitive []string, from *principal.Session) (map[string]string, []string, []string, error) {
	if len(tags) > maxSessionTags {
		return nil, nil, nil, awsquery.ValidationError("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to %d", maxSessionTags)
	}
	if len(transitive) > maxTransitiveTagKeys {
		return nil, nil, nil, awsquery.ValidationError("1 validation error detected: Value at 'transitiveTagKeys' failed to satisfy constraint: Member must have length less than or equal to %d", maxTransitiveTagKeys)
	}
	out := map[string]string{}
	lower := map[string]string{} // lower-case key -> key as given
	var keys []string
	inherited := map[string]bool{}
	var trans []string
	if from != nil {
		for _, k := range from.TransitiveKeys {
			v, ok := from.Tags[k]
			if !ok {
				continue
			}
			out[k] = v
			lower[strings.ToLower(k)] = k
			inherited[strings.ToLower(k)] = true
			trans = append(trans, k)
		}
	}
	for _, t := range tags {
		k, v := aws.ToString(t.Key), aws.ToString(t.Value)
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "aws:") {
			return nil, nil, nil, invalidParameter("Tag keys can't begin with the reserved prefix 'aws:'.")
		}
		if inherited[lk] {
			return nil, nil, nil, invalidParameter("One of the specified session tags, %s, conflicts with a transitive tag of the calling session; transitive session tags can't be overridden.", k)
		}
		if _, dup := lower[lk]; dup {
			return nil, nil, nil, invalidParameter("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		lower[lk] = k
		out[k] = v
		keys = append(keys, k)
	}
	for _, tk := range transitive {
		k, ok := lower[strings.ToLower(tk)]
		if !ok || inherited[strings.ToLower(tk)] {
			if ok {
				continue // already transitive
			}
			return nil, nil, nil, invalidParameter("The transitive tag key %s must be one of the session tags in the request.", tk)
		}
		trans = append(trans, k)
	}
	if len(out) > maxSessionTags {
		return nil, nil, nil, invalidParameter("The number of session tags, %d with the transitive tags of the calling session, exceeds the limit of %d.", len(out), maxSessionTags)
	}
	if len(out) == 0 {
		out = nil
	}
	return out, trans, keys, nil
}

// tagKeys are the condition keys of the tags a request passes: aws:RequestTag/KEY for each and
// aws:TagKeys with all the keys.
func tagKeys(tags map[string]string, keys []string) []enforce.ContextKey {
	if len(keys) == 0 {
		return nil
	}
	out := make([]enforce.ContextKey, 0, len(keys)+1)
	for _, k := range keys {
		out = append(out, enforce.ContextKey{Name: "aws:RequestTag/" + k, Values: []string{tags[k]}})
	}
	return append(out, enforce.ContextKey{Name: "aws:TagKeys", Values: keys, Multi: true})
}
