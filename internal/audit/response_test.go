package audit_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/gatehouse-iam/gatehouse/internal/audit"
)

func TestResponseElements(t *testing.T) {
	iamModel, stsModel := model(t, "iam"), model(t, "sts")
	created := time.Date(2023, 10, 13, 20, 58, 34, 0, time.UTC)
	for _, tc := range []struct {
		name string
		op   string
		sts  bool
		out  any
		want string
	}{
		{"create user", "CreateUser", false, &iam.CreateUserOutput{User: &iamtypes.User{
			Path: aws.String("/"), UserName: aws.String("bob"), UserId: aws.String("AIDAEXAMPLE"), Arn: aws.String("arn:aws:iam::123456789012:user/bob"),
			CreateDate: &created, Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("a")}}}},
			`{"user":{"arn":"arn:aws:iam::123456789012:user/bob","createDate":"Oct 13, 2023, 8:58:34 PM","path":"/","tags":[{"key":"team","value":"a"}],"userId":"AIDAEXAMPLE","userName":"bob"}}`},
		{"access key secret hidden", "CreateAccessKey", false, &iam.CreateAccessKeyOutput{AccessKey: &iamtypes.AccessKey{
			UserName: aws.String("bob"), AccessKeyId: aws.String("AKIAEXAMPLE"), Status: iamtypes.StatusTypeActive, SecretAccessKey: aws.String("wJalrXUtnFEMI/K7MDENG"), CreateDate: &created}},
			`{"accessKey":{"accessKeyId":"AKIAEXAMPLE","createDate":"Oct 13, 2023, 8:58:34 PM","secretAccessKey":"HIDDEN_DUE_TO_SECURITY_REASONS","status":"Active","userName":"bob"}}`},
		{"mfa seed hidden", "CreateVirtualMFADevice", false, &iam.CreateVirtualMFADeviceOutput{VirtualMFADevice: &iamtypes.VirtualMFADevice{
			SerialNumber: aws.String("arn:aws:iam::123456789012:mfa/bob"), Base32StringSeed: []byte("JBSWY3DPEHPK3PXP"), QRCodePNG: []byte{0x89, 'P', 'N', 'G'}}},
			`{"virtualMFADevice":{"base32StringSeed":"HIDDEN_DUE_TO_SECURITY_REASONS","qRCodePNG":"HIDDEN_DUE_TO_SECURITY_REASONS","serialNumber":"arn:aws:iam::123456789012:mfa/bob"}}`},
		{"assume role credentials", "AssumeRole", true, &sts.AssumeRoleOutput{
			Credentials:      &ststypes.Credentials{AccessKeyId: aws.String("ASIAEXAMPLE"), SecretAccessKey: aws.String("secret"), SessionToken: aws.String("token"), Expiration: &created},
			AssumedRoleUser:  &ststypes.AssumedRoleUser{Arn: aws.String("arn:aws:sts::123456789012:assumed-role/R/s"), AssumedRoleId: aws.String("AROAEXAMPLE:s")},
			PackedPolicySize: aws.Int32(6)},
			`{"assumedRoleUser":{"arn":"arn:aws:sts::123456789012:assumed-role/R/s","assumedRoleId":"AROAEXAMPLE:s"},"credentials":{"accessKeyId":"ASIAEXAMPLE","expiration":"Oct 13, 2023, 8:58:34 PM","secretAccessKey":"HIDDEN_DUE_TO_SECURITY_REASONS","sessionToken":"HIDDEN_DUE_TO_SECURITY_REASONS"},"packedPolicySize":6}`},
		{"nothing to show", "DeleteUser", false, &iam.DeleteUserOutput{}, `null`},
		{"nil output", "CreateUser", false, nil, `null`},
		{"list with marker", "ListUsers", false, &iam.ListUsersOutput{IsTruncated: true, Marker: aws.String("m"), Users: []iamtypes.User{{UserName: aws.String("a")}}},
			`{"isTruncated":true,"marker":"m","users":[{"userName":"a"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := iamModel
			if tc.sts {
				m = stsModel
			}
			got, err := json.Marshal(audit.ResponseElements(m.Operations[tc.op], tc.out))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("ResponseElements =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}
