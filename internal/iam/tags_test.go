package iam

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// TestListTagsPages lists tags sorted by key, case-sensitively (upper case first), in
// ListXTags and in GetX alike, as AWS does (LocalStack's recordings of AWS,
// test_iam_policies.snapshot.json: ListPolicyTags lists A before a).
func TestListTagsPages(t *testing.T) {
	t.Parallel()
	f := gkNewFixture(t)
	_, err := f.svc.CreateUser(f.ctx, &iam.CreateUserInput{UserName: aws.String("u"), Tags: []types.Tag{
		{Key: aws.String("b"), Value: aws.String("2")},
		{Key: aws.String("C"), Value: aws.String("3")},
		{Key: aws.String("a"), Value: aws.String("1")},
	}})
	gkCheck(t, err)
	_, err = f.svc.TagUser(f.ctx, &iam.TagUserInput{UserName: aws.String("U"), Tags: []types.Tag{{Key: aws.String("D"), Value: aws.String("4")}}})
	gkCheck(t, err)
	for _, tc := range []struct {
		name  string
		max   int32
		pages [][]string
	}{
		{"max=1", 1, [][]string{{"C"}, {"D"}, {"a"}, {"b"}}},
		{"max=3", 3, [][]string{{"C", "D", "a"}, {"b"}}},
		{"max=4", 4, [][]string{{"C", "D", "a", "b"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var marker *string
			for i, want := range tc.pages {
				out, err := f.svc.ListUserTags(f.ctx, &iam.ListUserTagsInput{UserName: aws.String("u"), MaxItems: aws.Int32(tc.max), Marker: marker})
				gkCheck(t, err)
				var got []string
				for _, tg := range out.Tags {
					got = append(got, *tg.Key)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("page %d = %v, want %v", i, got, want)
				}
				if last := i == len(tc.pages)-1; out.IsTruncated == last {
					t.Fatalf("page %d: IsTruncated = %v", i, out.IsTruncated)
				}
				marker = out.Marker
			}
		})
	}
	u, err := f.svc.GetUser(f.ctx, &iam.GetUserInput{UserName: aws.String("u")})
	gkCheck(t, err)
	var keys []string
	for _, tg := range u.User.Tags {
		keys = append(keys, *tg.Key)
	}
	if want := []string{"C", "D", "a", "b"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("GetUser tags = %v, want %v", keys, want)
	}
}
