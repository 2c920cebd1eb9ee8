package sts

import (
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/gatehouse-iam/gatehouse/internal/principal"
)

type (
	ststypesTag      = types.Tag
	principalSession = principal.Session
)

func newTag(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func join(l []string) string { return strings.Join(l, ",") }

func render(m map[string]string) string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}
