package iam

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Quotas that Gatehouse does not enforce itself, reported as AWS's defaults (IAM User Guide,
// "IAM and AWS STS quotas"; the same values in every GetAccountSummary answer recorded from
// AWS: UsersQuota 5000, PolicyVersionsInUseQuota 10000).
const (
	defaultUsersQuota               = 5000
	defaultPolicyVersionsInUseQuota = 10000
)

func (s *Service) accountSummaryOperations() []operation {
	return []operation{
		{"GetAccountSummary", awsquery.Handle(s.GetAccountSummary)},
		{"SetSecurityTokenServicePreferences", awsquery.Handle(s.SetSecurityTokenServicePreferences)},
	}
}

// accountQuotas are the SummaryMap's quotas: Gatehouse's own limits, which its handlers
// enforce, so the summary never promises more than a request may create.
func accountQuotas() map[string]int32 {
	return map[string]int32{
		"UsersQuota":                      defaultUsersQuota,
		"GroupsQuota":                     maxGroupsPerAccount,
		"RolesQuota":                      maxRolesPerAccount,
		"PoliciesQuota":                   maxPoliciesPerAccount,
		"InstanceProfilesQuota":           maxInstanceProfilesPerAccount,
		"ServerCertificatesQuota":         maxServerCertificates,
		"PolicyVersionsInUseQuota":        defaultPolicyVersionsInUseQuota,
		"VersionsPerPolicyQuota":          maxPolicyVersions,
		"PolicySizeQuota":                 maxManagedPolicySize,
		"UserPolicySizeQuota":             maxUserInlinePolicySize,
		"GroupPolicySizeQuota":            maxGroupInlinePolicySize,
		"RolePolicySizeQuota":             maxRoleInlinePolicySize,
		"AssumeRolePolicySizeQuota":       maxTrustPolicySize,
		"AttachedPoliciesPerUserQuota":    maxAttachedPolicies,
		"AttachedPoliciesPerGroupQuota":   maxAttachedPolicies,
		"AttachedPoliciesPerRoleQuota":    maxAttachedPolicies,
		"GroupsPerUserQuota":              maxGroupsPerUser,
		"AccessKeysPerUserQuota":          maxAccessKeysPerUser,
		"SigningCertificatesPerUserQuota": maxSigningCertificatesPerUser,
	}
}

// GetAccountSummary reports the account's IAM usage, counted from the store in one read
// transaction, and its quotas. The keys are the ones AWS answers (the API Reference's
// SummaryKeyType and the answers recorded from AWS): AccountPasswordPresent only appears, as 1,
// when the root user has a console password (SetRootPassword); AWS leaves it out otherwise.
func (s *Service) GetAccountSummary(ctx context.Context, _ *iam.GetAccountSummaryInput) (*iam.GetAccountSummaryOutput, error) {
	account := caller(ctx).Account
	m := accountQuotas()
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		counts := []struct {
			key    string
			kinds  []store.Kind
			prefix string
			flag   bool // 1 when there is any, as the root user's flags are
		}{
			{"Users", []store.Kind{store.KindUser}, "", false},
			{"Groups", []store.Kind{store.KindGroup}, "", false},
			{"Roles", []store.Kind{store.KindRole}, "", false},
			{"Policies", []store.Kind{store.KindPolicy}, "", false}, // customer-managed only
			{"InstanceProfiles", []store.Kind{store.KindInstanceProfile}, "", false},
			{"ServerCertificates", []store.Kind{store.KindServerCertificate}, "", false},
			{"Providers", []store.Kind{store.KindOIDCProvider, store.KindSAMLProvider}, "", false},
			// Virtual MFA devices, assigned or not; in use: assigned to a user or the root user.
			{"MFADevices", []store.Kind{store.KindMFADevice}, "", false},
			{"MFADevicesInUse", []store.Kind{store.KindMFAAssignment}, "", false},
			// The root user's own credentials are keyed by the account id.
			{"AccountMFAEnabled", []store.Kind{store.KindMFAAssignment}, account + "/", true},
			{"AccountAccessKeysPresent", []store.Kind{store.KindAccessKey}, account + "/", true},
			{"AccountSigningCertificatesPresent", []store.Kind{store.KindSigningCertificate}, account + "/", true},
		}
		for _, c := range counts {
			total := 0
			for _, k := range c.kinds {
				n, err := tx.Count(ctx, k, account, c.prefix)
				if err != nil {
					return err
				}
				total += n
			}
			if c.flag {
				total = min(total, 1)
			}
			m[c.key] = int32(total)
		}
		if ok, err := hasRootPassword(ctx, tx, account); err != nil {
			return err
		} else if ok {
			m["AccountPasswordPresent"] = 1
		}
		// PolicyVersionsInUse: the managed policies, customer- and AWS-managed, attached to the
		// account's users, groups and roles, each attachment once (an attached policy's default
		// version is in use for that entity). AWS does not define the count further; moto
		// counts attachments the same way.
		attached, err := accountAttachments(ctx, tx, account)
		if err != nil {
			return err
		}
		m["PolicyVersionsInUse"] = int32(len(attached))
		v, err := globalEndpointTokenVersion(ctx, tx, account)
		if err != nil {
			return err
		}
		m["GlobalEndpointTokenVersion"] = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iam.GetAccountSummaryOutput{SummaryMap: m}, nil
}

// accountAttachments are the ARNs of the managed policies attached to the account's users,
// groups and roles, once per attachment.
func accountAttachments(ctx context.Context, tx store.Tx, account string) ([]string, error) {
	var arns []string
	for _, kind := range []store.Kind{store.KindUser, store.KindGroup, store.KindRole} {
		recs, err := tx.List(ctx, kind, account, store.Query{})
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			links, err := tx.LinksFrom(ctx, account, store.LinkAttached, store.PrincipalRef(kind, r.ID))
			if err != nil {
				return nil, err
			}
			for _, l := range links {
				arns = append(arns, l.To)
			}
		}
	}
	return arns, nil
}
