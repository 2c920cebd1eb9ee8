package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	goqr "github.com/piglig/go-qr"

	iamsvc "github.com/gatehouse-iam/gatehouse/internal/iam"
	"github.com/gatehouse-iam/gatehouse/internal/totp"
)

// pmErr checks that err is the AWS error code whose message contains msg ("" skips it).
func pmErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s error, got %v", code, err)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("want %s error saying %q, got %s: %s", code, msg, ae.ErrorCode(), ae.ErrorMessage())
	}
}

func pmOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func pmMust[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		pmOK(t, err)
		return v
	}
}

// pmCase is one request that must fail with code and a message containing msg.
type pmCase struct {
	name, code, msg string
	call            func() error
}

// pmFailNoChange runs failing cases and checks that none of them changed state(), the
// observable state of what they touched.
func pmFailNoChange(t *testing.T, state func() string, cases []pmCase) {
	t.Helper()
	before := state()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pmErr(t, tc.call(), tc.code, tc.msg)
			if after := state(); after != before {
				t.Fatalf("a failed request changed state:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

func pmTags(kv ...string) []types.Tag {
	var out []types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

func pmTagString(tags []types.Tag) string {
	var out []string
	for _, t := range tags {
		out = append(out, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
	}
	return strings.Join(out, ",")
}

// pmAllTags pages through a ListXTags operation one tag at a time.
func pmAllTags(t *testing.T, page func(marker *string) ([]types.Tag, bool, *string, error)) string {
	t.Helper()
	var all []types.Tag
	var marker *string
	for range 60 {
		tags, truncated, next, err := page(marker)
		pmOK(t, err)
		all = append(all, tags...)
		if !truncated {
			return pmTagString(all)
		}
		marker = next
	}
	t.Fatal("tag pagination did not end")
	return ""
}

func TestOIDCProviders(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM
	must := pmMust[*iam.CreateOpenIDConnectProviderOutput](t)
	thumb := strings.Repeat("9E99A48A9960B14926BB7F3B02E22DA2B0AB7280", 1)
	created := must(c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url:            aws.String("https://token.example.com/tenant-1"),
		ClientIDList:   []string{"sts.amazonaws.com", "app-1", "app-1"},
		ThumbprintList: []string{thumb},
		Tags:           pmTags("team", "platform"),
	}))
	arn := "arn:aws:iam::" + e.Account + ":oidc-provider/token.example.com/tenant-1"
	if aws.ToString(created.OpenIDConnectProviderArn) != arn || pmTagString(created.Tags) != "team=platform" {
		t.Fatalf("CreateOpenIDConnectProvider = %s %s, want %s team=platform", aws.ToString(created.OpenIDConnectProviderArn), pmTagString(created.Tags), arn)
	}
	// AWS now accepts a provider without thumbprints.
	bare := must(c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://accounts.example.org")}))
	bareARN := aws.ToString(bare.OpenIDConnectProviderArn)

	state := func() string {
		out, err := c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
		pmOK(t, err)
		list, err := c.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
		pmOK(t, err)
		var arns []string
		for _, p := range list.OpenIDConnectProviderList {
			arns = append(arns, aws.ToString(p.Arn))
		}
		return fmt.Sprintf("url=%s clients=%v thumbs=%v tags=%s list=%v", aws.ToString(out.Url), out.ClientIDList, out.ThumbprintList, pmTagString(out.Tags), arns)
	}
	want := fmt.Sprintf("url=token.example.com/tenant-1 clients=[sts.amazonaws.com app-1] thumbs=[%s] tags=team=platform list=[%s %s]",
		strings.ToLower(thumb), bareARN, arn)
	if got := state(); got != want {
		t.Fatalf("provider state\n got %s\nwant %s", got, want)
	}
	got, err := c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	pmOK(t, err)
	if got.CreateDate == nil || time.Since(*got.CreateDate) > time.Minute {
		t.Fatalf("CreateDate = %v", got.CreateDate)
	}

	create := func(url string, thumbs, clients []string) func() error {
		return func() error {
			_, err := c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(url), ThumbprintList: thumbs, ClientIDList: clients})
			return err
		}
	}
	many := func(n int, f func(i int) string) []string {
		var out []string
		for i := range n {
			out = append(out, f(i))
		}
		return out
	}
	missing := "arn:aws:iam::" + e.Account + ":oidc-provider/missing.example.com"
	pmFailNoChange(t, state, []pmCase{
		{"same URL", "EntityAlreadyExists", "Provider with url https://token.example.com/tenant-1 already exists.", create("https://token.example.com/tenant-1", nil, nil)},
		{"same URL in other case", "EntityAlreadyExists", "already exists", create("https://TOKEN.example.com/Tenant-1", nil, nil)},
		// AWS's answer without https (LocalStack's recordings of AWS, test_iam_oidc.snapshot.json invalid-url).
		{"http", "ValidationError", "Invalid Open ID Connect Provider URL", create("http://idp.example.com", nil, nil)},
		{"no scheme", "ValidationError", "Invalid Open ID Connect Provider URL", create("idp.example.com", nil, nil)},
		{"port", "InvalidInput", "port", create("https://idp.example.com:8443", nil, nil)},
		{"query", "InvalidInput", "query", create("https://idp.example.com/?a=b", nil, nil)},
		{"fragment", "InvalidInput", "fragment", create("https://idp.example.com/#x", nil, nil)},
		{"six thumbprints", "InvalidInput", "Thumbprint list must contain fewer than 5 entries.", create("https://six.example.com", many(6, func(i int) string { return strings.Repeat(fmt.Sprint(i), 40) }), nil)},
		{"thumbprint not hex", "InvalidInput", "40 hexadecimal digits", create("https://hex.example.com", []string{strings.Repeat("g", 40)}, nil)},
		{"thumbprint of 39 characters", "ValidationError", "Member must have length greater than or equal to 40", create("https://short.example.com", []string{strings.Repeat("a", 39)}, nil)},
		{"101 client ids", "LimitExceeded", "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100", create("https://clients.example.com", nil, many(101, func(i int) string { return fmt.Sprint("client-", i) }))},
		{"get missing", "NoSuchEntity", "OpenIDConnect Provider not found for arn " + missing, func() error {
			_, err := c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(missing)})
			return err
		}},
		// Another account's resource is decided as a cross-account request, which nothing
		// allows for IAM resources (they have no resource-based policies), even for root.
		{"get with another account's ARN", "AccessDenied", "because no resource-based policy allows the iam:GetOpenIDConnectProvider action", func() error {
			_, err := c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(strings.Replace(arn, e.Account, "999999999999", 1))})
			return err
		}},
		{"get with a role ARN", "InvalidInput", "is not the ARN of an OpenID Connect provider", func() error {
			_, err := c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String("arn:aws:iam::" + e.Account + ":role/x")})
			return err
		}},
		{"add client id to missing", "NoSuchEntity", "not found", func() error {
			_, err := c.AddClientIDToOpenIDConnectProvider(ctx, &iam.AddClientIDToOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(missing), ClientID: aws.String("x")})
			return err
		}},
		{"bad thumbprint update", "InvalidInput", "40 hexadecimal digits", func() error {
			_, err := c.UpdateOpenIDConnectProviderThumbprint(ctx, &iam.UpdateOpenIDConnectProviderThumbprintInput{OpenIDConnectProviderArn: aws.String(arn), ThumbprintList: []string{strings.Repeat("z", 40)}})
			return err
		}},
		{"duplicate tag keys", "InvalidInput", "Duplicate tag keys", func() error {
			_, err := c.TagOpenIDConnectProvider(ctx, &iam.TagOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), Tags: pmTags("a", "1", "A", "2")})
			return err
		}},
		{"51 tags", "LimitExceeded", "", func() error {
			var tags []types.Tag
			for i := range 51 {
				tags = append(tags, types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")})
			}
			_, err := c.TagOpenIDConnectProvider(ctx, &iam.TagOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), Tags: tags[1:]})
			if err != nil {
				return err
			}
			// 50 new tags plus team=platform make 51.
			return errors.New("50 tags were accepted on top of one")
		}},
	})

	// Client ids: adding one it has and removing one it lacks succeed, as AWS documents.
	for _, id := range []string{"app-2", "app-2"} {
		_, err := c.AddClientIDToOpenIDConnectProvider(ctx, &iam.AddClientIDToOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String(id)})
		pmOK(t, err)
	}
	for _, id := range []string{"app-1", "never-added"} {
		_, err := c.RemoveClientIDFromOpenIDConnectProvider(ctx, &iam.RemoveClientIDFromOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String(id)})
		pmOK(t, err)
	}
	_, err = c.UpdateOpenIDConnectProviderThumbprint(ctx, &iam.UpdateOpenIDConnectProviderThumbprintInput{OpenIDConnectProviderArn: aws.String(arn), ThumbprintList: []string{strings.Repeat("a", 40), strings.Repeat("B", 40)}})
	pmOK(t, err)
	_, err = c.TagOpenIDConnectProvider(ctx, &iam.TagOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), Tags: pmTags("env", "prod", "TEAM", "identity")})
	pmOK(t, err)
	_, err = c.UntagOpenIDConnectProvider(ctx, &iam.UntagOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), TagKeys: []string{"nope"}})
	pmOK(t, err)
	want = fmt.Sprintf("url=token.example.com/tenant-1 clients=[sts.amazonaws.com app-2] thumbs=[%s %s] tags=TEAM=identity,env=prod list=[%s %s]",
		strings.Repeat("a", 40), strings.Repeat("b", 40), bareARN, arn)
	if got := state(); got != want {
		t.Fatalf("after changes\n got %s\nwant %s", got, want)
	}
	tags := pmAllTags(t, func(m *string) ([]types.Tag, bool, *string, error) {
		out, err := c.ListOpenIDConnectProviderTags(ctx, &iam.ListOpenIDConnectProviderTagsInput{OpenIDConnectProviderArn: aws.String(arn), MaxItems: aws.Int32(1), Marker: m})
		if err != nil {
			return nil, false, nil, err
		}
		return out.Tags, out.IsTruncated, out.Marker, nil
	})
	// Sorted case-sensitively, upper case first, as AWS lists tags.
	if tags != "TEAM=identity,env=prod" {
		t.Fatalf("ListOpenIDConnectProviderTags pages = %s", tags)
	}

	// Up to 100 client ids, and not one more.
	for i := 3; i <= 100; i++ {
		_, err := c.AddClientIDToOpenIDConnectProvider(ctx, &iam.AddClientIDToOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String(fmt.Sprint("app-", i))})
		pmOK(t, err)
	}
	pmFailNoChange(t, state, []pmCase{{"101st client id", "LimitExceeded", "ClientIdsPerOpenIdConnectProvider: 100", func() error {
		_, err := c.AddClientIDToOpenIDConnectProvider(ctx, &iam.AddClientIDToOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String("one-too-many")})
		return err
	}}})

	// The provider is gone after Delete; deleting it again is NoSuchEntity, as AWS answers
	// (LocalStack's recordings of AWS, test_iam_oidc.snapshot.json deletion-not-found-error),
	// though the API Reference calls the operation idempotent.
	_, err = c.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	pmOK(t, err)
	_, err = c.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	pmErr(t, err, "NoSuchEntity", "OpenId connect Provider "+arn+" cannot be found.")
	_, err = c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	pmErr(t, err, "NoSuchEntity", "OpenIDConnect Provider not found for arn "+arn)
	_, err = c.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String("not-an-arn-at-all-really")})
	pmErr(t, err, "InvalidInput", "")

	// 100 providers per account.
	for i := 2; i <= 100; i++ {
		_, err := c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(fmt.Sprintf("https://idp-%d.example.com", i))})
		pmOK(t, err)
	}
	count := func() string {
		list, err := c.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
		pmOK(t, err)
		return fmt.Sprint(len(list.OpenIDConnectProviderList))
	}
	if n := count(); n != "100" {
		t.Fatalf("%s providers, want 100", n)
	}
	pmFailNoChange(t, count, []pmCase{{"101st provider", "LimitExceeded", "Cannot exceed quota for OpenIdConnectProvidersPerAccount: 100", create("https://idp-101.example.com", nil, nil)}})
}

// pmMetadata reads a SAML metadata document of the samlmeta package's test data.
func pmMetadata(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "internal", "samlmeta", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// pmPrivateKeyPEM makes an RSA private key, in PKCS#8 PEM, as a SAML provider's assertion
// decryption key.
func pmPrivateKeyPEM(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func TestSAMLProviders(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM
	okta, other := pmMetadata(t, "good-okta.xml"), pmMetadata(t, "good-default-namespace.xml")
	created, err := c.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("Okta"), SAMLMetadataDocument: aws.String(okta), Tags: pmTags("team", "a")})
	pmOK(t, err)
	arn := "arn:aws:iam::" + e.Account + ":saml-provider/Okta"
	if aws.ToString(created.SAMLProviderArn) != arn || pmTagString(created.Tags) != "team=a" {
		t.Fatalf("CreateSAMLProvider = %s %s", aws.ToString(created.SAMLProviderArn), pmTagString(created.Tags))
	}
	get := func() *iam.GetSAMLProviderOutput {
		out, err := c.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String(arn)})
		pmOK(t, err)
		return out
	}
	got := get()
	if aws.ToString(got.SAMLMetadataDocument) != okta {
		t.Fatal("GetSAMLProvider does not return the metadata document as given")
	}
	if u := aws.ToString(got.SAMLProviderUUID); len(u) != 22 || !strings.HasPrefix(u, "SAML") {
		t.Fatalf("SAMLProviderUUID = %q", u)
	}
	// Metadata without validUntil: valid for a hundred years from creation.
	if !got.ValidUntil.Equal(got.CreateDate.AddDate(100, 0, 0)) || time.Since(*got.CreateDate) > time.Minute {
		t.Fatalf("CreateDate %v, ValidUntil %v", got.CreateDate, got.ValidUntil)
	}
	if got.AssertionEncryptionMode != "" || got.PrivateKeyList != nil {
		t.Fatalf("encryption %q keys %v, want none", got.AssertionEncryptionMode, got.PrivateKeyList)
	}

	state := func() string {
		g := get()
		list, err := c.ListSAMLProviders(ctx, &iam.ListSAMLProvidersInput{})
		pmOK(t, err)
		var entries []string
		for _, p := range list.SAMLProviderList {
			entries = append(entries, aws.ToString(p.Arn)+"@"+p.ValidUntil.Format(time.RFC3339))
		}
		var keys []string
		for _, k := range g.PrivateKeyList {
			keys = append(keys, aws.ToString(k.KeyId))
		}
		return fmt.Sprintf("doc=%d until=%s mode=%s keys=%v tags=%s list=%v", len(aws.ToString(g.SAMLMetadataDocument)), g.ValidUntil.Format(time.RFC3339), g.AssertionEncryptionMode, keys, pmTagString(g.Tags), entries)
	}
	createDoc := func(name, doc string) func() error {
		return func() error {
			_, err := c.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String(name), SAMLMetadataDocument: aws.String(doc)})
			return err
		}
	}
	update := func(in iam.UpdateSAMLProviderInput) func() error {
		return func() error {
			in.SAMLProviderArn = aws.String(arn)
			_, err := c.UpdateSAMLProvider(ctx, &in)
			return err
		}
	}
	cases := []pmCase{
		{"same name in other case", "EntityAlreadyExists", "SAMLProvider OKTA already exists.", createDoc("OKTA", okta)},
		{"document under 1000 characters", "ValidationError", "Member must have length greater than or equal to 1000", createDoc("short", "<md:EntityDescriptor/>")},
		{"not XML", "InvalidInput", "Could not parse metadata", createDoc("junk", strings.Repeat("not xml ", 200))},
		{"Required without a key", "InvalidInput", "because no private key is provided", func() error {
			_, err := c.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("enc"), SAMLMetadataDocument: aws.String(okta), AssertionEncryptionMode: types.AssertionEncryptionModeTypeRequired})
			return err
		}},
		{"private key not PEM", "InvalidInput", "Invalid private key: Key format is not recognized.", func() error {
			_, err := c.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("enc"), SAMLMetadataDocument: aws.String(okta), AddPrivateKey: aws.String("nope")})
			return err
		}},
		{"update with nothing", "InvalidInput", "No updates are defined", update(iam.UpdateSAMLProviderInput{})},
		{"update with bad metadata", "InvalidInput", "Could not parse metadata", update(iam.UpdateSAMLProviderInput{SAMLMetadataDocument: aws.String(pmMetadata(t, "bad-sp-only.xml"))})},
		{"update Required without a key", "InvalidInput", "because no private key is provided", update(iam.UpdateSAMLProviderInput{AssertionEncryptionMode: types.AssertionEncryptionModeTypeRequired})},
		{"add and remove a key", "InvalidInput", "Unable to add and remove private keys in the same request", update(iam.UpdateSAMLProviderInput{AddPrivateKey: aws.String(pmPrivateKeyPEM(t)), RemovePrivateKey: aws.String(strings.Repeat("SAML", 6))})},
		{"remove an unknown key", "InvalidInput", "the Key ID does not match a private key", update(iam.UpdateSAMLProviderInput{RemovePrivateKey: aws.String(strings.Repeat("SAML", 6))})},
		{"get missing", "NoSuchEntity", "Manifest not found for arn arn:aws:iam::" + e.Account + ":saml-provider/Missing", func() error {
			_, err := c.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String("arn:aws:iam::" + e.Account + ":saml-provider/Missing")})
			return err
		}},
		{"get with an OIDC ARN", "InvalidInput", "is not the ARN of a SAML provider", func() error {
			_, err := c.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String("arn:aws:iam::" + e.Account + ":oidc-provider/x.example.com")})
			return err
		}},
		{"tag missing", "NoSuchEntity", "Manifest not found", func() error {
			_, err := c.TagSAMLProvider(ctx, &iam.TagSAMLProviderInput{SAMLProviderArn: aws.String("arn:aws:iam::" + e.Account + ":saml-provider/Missing"), Tags: pmTags("a", "b")})
			return err
		}},
	}
	// Every document the metadata parser refuses is InvalidInput here.
	for _, bad := range []string{"bad-truncated.xml", "bad-namespace.xml", "bad-no-entity-id.xml", "bad-sp-only.xml", "bad-protocol.xml", "bad-encryption-only.xml", "bad-certificate-base64.xml", "bad-certificate-der.xml", "bad-valid-until.xml"} {
		cases = append(cases, pmCase{"metadata " + bad, "InvalidInput", "Could not parse metadata", createDoc("bad", pmMetadata(t, bad))})
	}
	pmFailNoChange(t, state, cases)

	// New metadata with validUntil sets ValidUntil; private keys come and go by AWS's rules.
	pmOK(t, update(iam.UpdateSAMLProviderInput{SAMLMetadataDocument: aws.String(other)})())
	if until := get().ValidUntil; !until.Equal(time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("ValidUntil after update = %v, want the metadata's validUntil", until)
	}
	pmOK(t, update(iam.UpdateSAMLProviderInput{AddPrivateKey: aws.String(pmPrivateKeyPEM(t)), AssertionEncryptionMode: types.AssertionEncryptionModeTypeRequired})())
	pmOK(t, update(iam.UpdateSAMLProviderInput{AddPrivateKey: aws.String(pmPrivateKeyPEM(t))})())
	g := get()
	if g.AssertionEncryptionMode != types.AssertionEncryptionModeTypeRequired || len(g.PrivateKeyList) != 2 || g.PrivateKeyList[0].Timestamp == nil {
		t.Fatalf("after adding keys: mode %q keys %+v", g.AssertionEncryptionMode, g.PrivateKeyList)
	}
	keys, mode, err := e.app.IAM.SAMLProviderPrivateKeys(ctx, e.Account, arn)
	if err != nil || len(keys) != 2 || mode != "Required" {
		t.Fatalf("SAMLProviderPrivateKeys = %d keys, %q, %v", len(keys), mode, err)
	}
	first, second := aws.ToString(g.PrivateKeyList[0].KeyId), aws.ToString(g.PrivateKeyList[1].KeyId)
	pmFailNoChange(t, state, []pmCase{
		{"third key", "LimitExceeded", "Private key limit of 2 is reached.", update(iam.UpdateSAMLProviderInput{AddPrivateKey: aws.String(pmPrivateKeyPEM(t))})},
	})
	pmOK(t, update(iam.UpdateSAMLProviderInput{RemovePrivateKey: aws.String(first)})())
	pmFailNoChange(t, state, []pmCase{
		{"last key while Required", "InvalidInput", "Failed to remove private key.", update(iam.UpdateSAMLProviderInput{RemovePrivateKey: aws.String(second)})},
	})
	pmOK(t, update(iam.UpdateSAMLProviderInput{AssertionEncryptionMode: types.AssertionEncryptionModeTypeAllowed})())
	pmOK(t, update(iam.UpdateSAMLProviderInput{RemovePrivateKey: aws.String(second)})())
	if g := get(); g.PrivateKeyList != nil || g.AssertionEncryptionMode != types.AssertionEncryptionModeTypeAllowed {
		t.Fatalf("after removing keys: mode %q keys %+v", g.AssertionEncryptionMode, g.PrivateKeyList)
	}

	// The issuer and certificates are there for AssumeRoleWithSAML.
	m, err := e.app.IAM.SAMLProviderMetadata(ctx, e.Account, arn)
	if err != nil || m.EntityID != "https://idp.example.com/saml" || len(m.SigningCertificates) != 1 {
		t.Fatalf("SAMLProviderMetadata = %+v, %v", m, err)
	}

	// Tags, one per page.
	_, err = c.TagSAMLProvider(ctx, &iam.TagSAMLProviderInput{SAMLProviderArn: aws.String(arn), Tags: pmTags("Env", "prod", "TEAM", "b")})
	pmOK(t, err)
	_, err = c.UntagSAMLProvider(ctx, &iam.UntagSAMLProviderInput{SAMLProviderArn: aws.String(arn), TagKeys: []string{"env"}})
	pmOK(t, err)
	tags := pmAllTags(t, func(mk *string) ([]types.Tag, bool, *string, error) {
		out, err := c.ListSAMLProviderTags(ctx, &iam.ListSAMLProviderTagsInput{SAMLProviderArn: aws.String(arn), MaxItems: aws.Int32(1), Marker: mk})
		if err != nil {
			return nil, false, nil, err
		}
		return out.Tags, out.IsTruncated, out.Marker, nil
	})
	if tags != "TEAM=b" {
		t.Fatalf("SAML provider tags = %s", tags)
	}

	// Delete, then it is gone; deleting again is NoSuchEntity.
	_, err = c.DeleteSAMLProvider(ctx, &iam.DeleteSAMLProviderInput{SAMLProviderArn: aws.String(arn)})
	pmOK(t, err)
	for _, call := range []func() error{
		func() error {
			_, err := c.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String(arn)})
			return err
		},
		func() error {
			_, err := c.DeleteSAMLProvider(ctx, &iam.DeleteSAMLProviderInput{SAMLProviderArn: aws.String(arn)})
			return err
		},
	} {
		pmErr(t, call(), "NoSuchEntity", "Manifest not found for arn "+arn)
	}

	// 100 providers per account.
	for i := range 100 {
		pmOK(t, createDoc(fmt.Sprint("p", i), okta)())
	}
	count := func() string {
		list, err := c.ListSAMLProviders(ctx, &iam.ListSAMLProvidersInput{})
		pmOK(t, err)
		return fmt.Sprint(len(list.SAMLProviderList))
	}
	pmFailNoChange(t, count, []pmCase{{"101st provider", "LimitExceeded", "Cannot exceed quota for SAMLProvidersPerAccount: 100", createDoc("one-more", okta)}})
}

// pmDevice is a virtual MFA device as its creator sees it.
type pmDevice struct {
	serial string
	seed   []byte
}

func (d pmDevice) code(step int64) string { return totp.Default.CodeAt(d.seed, step) }

func pmCreateDevice(t *testing.T, c *iam.Client, account, path, name string) pmDevice {
	t.Helper()
	in := &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String(name)}
	if path != "" {
		in.Path = aws.String(path)
	}
	out, err := c.CreateVirtualMFADevice(context.Background(), in)
	pmOK(t, err)
	v := out.VirtualMFADevice
	seed, err := totp.DecodeSeed(string(v.Base32StringSeed))
	if err != nil || len(seed) != totp.SeedSize {
		t.Fatalf("Base32StringSeed %q: %d bytes, %v", v.Base32StringSeed, len(seed), err)
	}
	img, err := png.Decode(bytes.NewReader(v.QRCodePNG))
	if err != nil {
		t.Fatalf("QRCodePNG is not a PNG: %v", err)
	}
	text, err := goqr.Decode(img)
	if err != nil {
		t.Fatalf("QRCodePNG: %v", err)
	}
	if want := "otpauth://totp/" + name + "@" + account + "?secret=" + string(v.Base32StringSeed); text != want {
		t.Fatalf("QR code holds %q, want %q", text, want)
	}
	return pmDevice{serial: aws.ToString(v.SerialNumber), seed: seed}
}

// pmStep is the current TOTP step, waiting first for a fresh step when the current one is
// about to end, so the codes a test computes stay current while it uses them.
func pmStep() int64 {
	now := time.Now()
	if left := 30 - now.Unix()%30; left < 6 {
		time.Sleep(time.Duration(left)*time.Second + 100*time.Millisecond)
	}
	return totp.Default.Step(time.Now())
}

func TestMFADevices(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM
	for _, u := range []string{"alice", "bob"} {
		_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)})
		pmOK(t, err)
	}
	dev := pmCreateDevice(t, c, e.Account, "/ops/", "alice-phone")
	if want := "arn:aws:iam::" + e.Account + ":mfa/ops/alice-phone"; dev.serial != want {
		t.Fatalf("SerialNumber = %s, want %s", dev.serial, want)
	}
	spare := pmCreateDevice(t, c, e.Account, "", "spare")

	// state shows every device with its owner, and alice's and bob's devices.
	state := func() string {
		var parts []string
		for _, status := range []types.AssignmentStatusType{types.AssignmentStatusTypeAssigned, types.AssignmentStatusTypeUnassigned} {
			out, err := c.ListVirtualMFADevices(ctx, &iam.ListVirtualMFADevicesInput{AssignmentStatus: status})
			pmOK(t, err)
			for _, v := range out.VirtualMFADevices {
				owner := "-"
				if v.User != nil {
					owner = aws.ToString(v.User.Arn)
				}
				parts = append(parts, fmt.Sprintf("%s:%s:%s", status, aws.ToString(v.SerialNumber), owner))
			}
		}
		for _, u := range []string{"alice", "bob"} {
			out, err := c.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String(u)})
			pmOK(t, err)
			for _, d := range out.MFADevices {
				parts = append(parts, u+"="+aws.ToString(d.SerialNumber))
			}
		}
		return strings.Join(parts, " ")
	}
	if got, want := state(), fmt.Sprintf("Unassigned:%s:- Unassigned:%s:-", dev.serial, spare.serial); got != want {
		t.Fatalf("state\n got %s\nwant %s", got, want)
	}

	now := pmStep()
	enable := func(user, serial, c1, c2 string) func() error {
		return func() error {
			_, err := c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String(user), SerialNumber: aws.String(serial), AuthenticationCode1: aws.String(c1), AuthenticationCode2: aws.String(c2)})
			return err
		}
	}
	wrong := func(code string) string { return fmt.Sprintf("%06d", (atoi(code)+1)%1000000) }
	missing := "arn:aws:iam::" + e.Account + ":mfa/missing"
	pmFailNoChange(t, state, []pmCase{
		// AWS's texts (LocalStack's recordings of AWS, test_iam_mfa.snapshot.json).
		{"same name in other case", "EntityAlreadyExists", "MFA device already exists.", func() error {
			_, err := c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{Path: aws.String("/ops/"), VirtualMFADeviceName: aws.String("ALICE-phone")})
			return err
		}},
		{"path without trailing slash", "ValidationError", "", func() error {
			_, err := c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{Path: aws.String("/ops"), VirtualMFADeviceName: aws.String("x")})
			return err
		}},
		{"wrong first code", "InvalidAuthenticationCode", "Authentication code for device is not valid.", enable("alice", dev.serial, wrong(dev.code(now-1)), dev.code(now))},
		{"wrong second code", "InvalidAuthenticationCode", "Authentication code for device is not valid.", enable("alice", dev.serial, dev.code(now-1), wrong(dev.code(now)))},
		{"codes not consecutive", "InvalidAuthenticationCode", "", enable("alice", dev.serial, dev.code(now-2), dev.code(now))},
		{"codes reversed", "InvalidAuthenticationCode", "", enable("alice", dev.serial, dev.code(now), dev.code(now-1))},
		{"codes from an hour ago", "InvalidAuthenticationCode", "", enable("alice", dev.serial, dev.code(now-120), dev.code(now-119))},
		{"codes of another device", "InvalidAuthenticationCode", "", enable("alice", dev.serial, spare.code(now-1), spare.code(now))},
		{"code of five digits", "ValidationError", "", enable("alice", dev.serial, "12345", dev.code(now))},
		{"unknown user", "NoSuchEntity", "The user with name carol cannot be found.", enable("carol", dev.serial, dev.code(now-1), dev.code(now))},
		{"unknown device", "NoSuchEntity", "MFA Device with serial number " + missing + " does not exist.", enable("alice", missing, dev.code(now-1), dev.code(now))},
		{"hardware serial", "NoSuchEntity", "does not exist", enable("alice", "GAHT12345678", dev.code(now-1), dev.code(now))},
		{"delete unknown", "NoSuchEntity", "does not exist", func() error {
			_, err := c.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(missing)})
			return err
		}},
		{"get unassigned", "NoSuchEntity", "is not enabled for user alice", func() error {
			_, err := c.GetMFADevice(ctx, &iam.GetMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(dev.serial)})
			return err
		}},
	})

	// Enable with two consecutive codes.
	pmOK(t, enable("alice", dev.serial, dev.code(now-2), dev.code(now-1))())
	wantAssigned := fmt.Sprintf("Assigned:%s:arn:aws:iam::%s:user/alice Unassigned:%s:- alice=%s", dev.serial, e.Account, spare.serial, dev.serial)
	if got := state(); got != wantAssigned {
		t.Fatalf("after enable\n got %s\nwant %s", got, wantAssigned)
	}
	g, err := c.GetMFADevice(ctx, &iam.GetMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(dev.serial)})
	pmOK(t, err)
	if aws.ToString(g.UserName) != "alice" || g.EnableDate == nil || time.Since(*g.EnableDate) > time.Minute {
		t.Fatalf("GetMFADevice = %s %v", aws.ToString(g.UserName), g.EnableDate)
	}
	pmFailNoChange(t, state, []pmCase{
		{"enable again", "EntityAlreadyExists", "MFA Device is already in use.", enable("alice", dev.serial, dev.code(now), dev.code(now+1))},
		{"enable for another user", "EntityAlreadyExists", "MFA Device is already in use.", enable("bob", dev.serial, dev.code(now), dev.code(now+1))},
		{"delete the user while assigned", "DeleteConflict", "Cannot delete entity, must delete MFA device first.", func() error {
			_, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
			return err
		}},
		{"delete while assigned", "DeleteConflict", "still in use", func() error {
			_, err := c.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(dev.serial)})
			return err
		}},
		{"deactivate for the wrong user", "NoSuchEntity", "is not enabled for user bob", func() error {
			_, err := c.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String("bob"), SerialNumber: aws.String(dev.serial)})
			return err
		}},
		{"resync with wrong codes", "InvalidAuthenticationCode", "", func() error {
			_, err := c.ResyncMFADevice(ctx, &iam.ResyncMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(dev.serial), AuthenticationCode1: aws.String(wrong(dev.code(now))), AuthenticationCode2: aws.String(dev.code(now + 1))})
			return err
		}},
	})

	// VerifyMFACode, as STS will call it: a code works once, and codes already used at
	// enable time are refused.
	aliceID := userID(t, c, "alice")
	verify := func(code string) error { return e.app.IAM.VerifyMFACode(ctx, e.Account, dev.serial, aliceID, code) }
	for _, tc := range []struct {
		name string
		code string
		ok   bool
	}{
		{"code of enable, replayed", dev.code(now - 1), false},
		{"current code", dev.code(now), true},
		{"current code again", dev.code(now), false},
		{"wrong code", wrong(dev.code(now + 1)), false},
	} {
		t.Run("verify "+tc.name, func(t *testing.T) {
			err := verify(tc.code)
			if tc.ok {
				pmOK(t, err)
				return
			}
			if !errors.Is(err, iamsvc.ErrInvalidMFACode) {
				t.Fatalf("VerifyMFACode = %v, want ErrInvalidMFACode", err)
			}
		})
	}
	if err := e.app.IAM.VerifyMFACode(ctx, e.Account, dev.serial, userID(t, c, "bob"), dev.code(now+1)); !errors.Is(err, iamsvc.ErrInvalidMFACode) {
		t.Fatalf("VerifyMFACode for a user without the device = %v", err)
	}

	// Deactivate, then enabling again refuses codes already used and takes fresh ones.
	_, err = c.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(dev.serial)})
	pmOK(t, err)
	pmErr(t, enable("alice", dev.serial, dev.code(now-1), dev.code(now))(), "InvalidAuthenticationCode", "")
	pmOK(t, enable("alice", dev.serial, dev.code(now+1), dev.code(now+2))())

	// Resync: codes from three minutes ahead set the drift, and later codes follow it.
	_, err = c.ResyncMFADevice(ctx, &iam.ResyncMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(dev.serial), AuthenticationCode1: aws.String(dev.code(now + 5)), AuthenticationCode2: aws.String(dev.code(now + 6))})
	pmOK(t, err)
	pmOK(t, verify(dev.code(now+7)))
	if err := verify(dev.code(now + 6)); !errors.Is(err, iamsvc.ErrInvalidMFACode) {
		t.Fatalf("a code of the resync was accepted again: %v", err)
	}

	// Tags on a device, one per page.
	_, err = c.TagMFADevice(ctx, &iam.TagMFADeviceInput{SerialNumber: aws.String(dev.serial), Tags: pmTags("owner", "alice", "kind", "phone")})
	pmOK(t, err)
	_, err = c.UntagMFADevice(ctx, &iam.UntagMFADeviceInput{SerialNumber: aws.String(dev.serial), TagKeys: []string{"KIND"}})
	pmOK(t, err)
	tags := pmAllTags(t, func(m *string) ([]types.Tag, bool, *string, error) {
		out, err := c.ListMFADeviceTags(ctx, &iam.ListMFADeviceTagsInput{SerialNumber: aws.String(dev.serial), MaxItems: aws.Int32(1), Marker: m})
		if err != nil {
			return nil, false, nil, err
		}
		return out.Tags, out.IsTruncated, out.Marker, nil
	})
	if tags != "owner=alice" {
		t.Fatalf("device tags = %s", tags)
	}
	_, err = c.ListMFADeviceTags(ctx, &iam.ListMFADeviceTagsInput{SerialNumber: aws.String(missing)})
	pmErr(t, err, "NoSuchEntity", "does not exist")

	// The root user: enabled through the console's Go call, listed without a user name.
	root := pmCreateDevice(t, c, e.Account, "", "root-account-mfa-device")
	pmOK(t, e.app.IAM.EnableRootMFADevice(ctx, e.Account, root.serial, root.code(now-1), root.code(now)))
	rootList, err := c.ListMFADevices(ctx, &iam.ListMFADevicesInput{})
	pmOK(t, err)
	if len(rootList.MFADevices) != 1 || aws.ToString(rootList.MFADevices[0].SerialNumber) != root.serial || rootList.MFADevices[0].UserName != nil {
		t.Fatalf("root's ListMFADevices = %+v", rootList.MFADevices)
	}
	assigned, err := c.ListVirtualMFADevices(ctx, &iam.ListVirtualMFADevicesInput{AssignmentStatus: types.AssignmentStatusTypeAssigned})
	pmOK(t, err)
	var rootUser *types.User
	for _, v := range assigned.VirtualMFADevices {
		if aws.ToString(v.SerialNumber) == root.serial {
			rootUser = v.User
		}
	}
	if rootUser == nil || aws.ToString(rootUser.Arn) != "arn:aws:iam::"+e.Account+":root" || aws.ToString(rootUser.UserId) != e.Account || rootUser.UserName != nil {
		t.Fatalf("root device's User = %+v", rootUser)
	}
	pmOK(t, e.app.IAM.VerifyMFACode(ctx, e.Account, root.serial, e.Account, root.code(now+1)))
	_, err = c.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{SerialNumber: aws.String(root.serial)})
	pmOK(t, err)
	_, err = c.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(root.serial)})
	pmOK(t, err)

	// Eight devices per user, and not one more.
	for i := 1; i <= 9; i++ {
		d := pmCreateDevice(t, c, e.Account, "/bob/", fmt.Sprint("bob-", i))
		err := enable("bob", d.serial, d.code(now), d.code(now+1))()
		if i <= 8 {
			pmOK(t, err)
		} else {
			pmErr(t, err, "LimitExceeded", "Cannot exceed quota for MFADevicesPerUser: 8")
		}
	}
	bobs, err := c.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String("bob"), MaxItems: aws.Int32(3)})
	pmOK(t, err)
	if len(bobs.MFADevices) != 3 || !bobs.IsTruncated || aws.ToString(bobs.MFADevices[0].UserName) != "bob" {
		t.Fatalf("bob's first page = %d devices, truncated %v", len(bobs.MFADevices), bobs.IsTruncated)
	}
	n := len(bobs.MFADevices)
	for bobs.IsTruncated {
		bobs, err = c.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String("bob"), MaxItems: aws.Int32(3), Marker: bobs.Marker})
		pmOK(t, err)
		n += len(bobs.MFADevices)
	}
	if n != 8 {
		t.Fatalf("bob has %d devices listed, want 8", n)
	}

	// ListVirtualMFADevices pages through a filtered list: two unassigned (spare, bob-9)
	// among eleven devices, one per page.
	var unassigned []string
	var marker *string
	for {
		out, err := c.ListVirtualMFADevices(ctx, &iam.ListVirtualMFADevicesInput{AssignmentStatus: types.AssignmentStatusTypeUnassigned, MaxItems: aws.Int32(1), Marker: marker})
		pmOK(t, err)
		for _, v := range out.VirtualMFADevices {
			unassigned = append(unassigned, aws.ToString(v.SerialNumber))
		}
		if !out.IsTruncated {
			break
		}
		marker = out.Marker
	}
	wantUnassigned := []string{"arn:aws:iam::" + e.Account + ":mfa/bob/bob-9", spare.serial}
	if !slices.Equal(unassigned, wantUnassigned) {
		t.Fatalf("unassigned devices = %v, want %v", unassigned, wantUnassigned)
	}

	// Deleting an unassigned device; it is gone after.
	_, err = c.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(spare.serial)})
	pmOK(t, err)
	_, err = c.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(spare.serial)})
	pmErr(t, err, "NoSuchEntity", "does not exist")

	// Seeds are sealed at rest: no form of any seed is in the database files.
	pmSeedsNotInFiles(t, e.DataDir, dev.seed, root.seed)
}

// pmSeedsNotInFiles fails if any file under dir holds a seed raw, in Base32 or in base64.
func pmSeedsNotInFiles(t *testing.T, dir string, seeds ...[]byte) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, seed := range seeds {
			for _, form := range [][]byte{seed, []byte(totp.EncodeSeed(seed)), []byte(base64.StdEncoding.EncodeToString(seed))} {
				if bytes.Contains(data, form) {
					t.Errorf("%s holds a seed in the clear", path)
				}
			}
		}
		return nil
	})
	if err != nil || files == 0 {
		t.Fatalf("read data directory: %d files, %v", files, err)
	}
}

func userID(t *testing.T, c *iam.Client, name string) string {
	t.Helper()
	out, err := c.GetUser(context.Background(), &iam.GetUserInput{UserName: aws.String(name)})
	pmOK(t, err)
	return aws.ToString(out.User.UserId)
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}
