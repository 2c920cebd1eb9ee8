package iam

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/entity"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Service-linked roles live under /aws-service-role/SERVICE/, a path that only
// CreateServiceLinkedRole may use (CreateRole answers "Path prefix '/aws-service-role/' can
// only be used for AWS Service linked Roles"), so the path marks them. The linked service
// owns such a role: IAM refuses to change its trust policy, permissions or instance profiles
// (UnmodifiableEntity) but lets anyone with permission edit its description and tags ("You
// can edit the description of any role", IAM User Guide, "Update a service-linked role";
// TagRole: "The role can be a regular role or a service-linked role").

const slrPathPrefix = "/aws-service-role/"

func isServiceLinked(r *store.Role) bool { return strings.HasPrefix(r.Path, slrPathPrefix) }

// protectedRole is AWS's answer to a change of a role only its service may change.
func protectedRole(name string) error {
	return awsquery.Errorf(http.StatusBadRequest, "UnmodifiableEntity",
		"Cannot perform the operation on the protected role '%s' - this role is only modifiable by AWS", name)
}

// modifiableRole refuses a service-linked role; the handlers of ordinary edits call it.
func modifiableRole(r *store.Role) error {
	if isServiceLinked(r) {
		return protectedRole(r.Name)
	}
	return nil
}

// linkedService is what IAM knows of a service that has a service-linked role.
type linkedService struct {
	service string // the service principal
	role    string // the role's name, as AWS names it
	policy  string // the AWS managed policy (under /aws-service-role/) the role has attached; "" for none
	suffix  bool   // whether the service accepts a CustomSuffix
}

// linkedServices are the services whose documentation names their service-linked role and its
// policy. Most services refuse a CustomSuffix ("Some services do not support the CustomSuffix
// parameter", CreateServiceLinkedRole; AWS answers "Custom suffix is not allowed for
// es.amazonaws.com"); Auto Scaling, Amazon Connect and Lex V2 document roles named with one.
func linkedServices() []linkedService {
	return []linkedService{
		{service: "autoscaling.amazonaws.com", role: "AWSServiceRoleForAutoScaling", policy: "AutoScalingServiceRolePolicy", suffix: true},
		{service: "connect.amazonaws.com", role: "AWSServiceRoleForAmazonConnect", policy: "AmazonConnectServiceLinkedRolePolicy", suffix: true},
		{service: "lex.amazonaws.com", role: "AWSServiceRoleForLexBots"}, // its AmazonLexBotPolicy is not among the shipped AWS managed policies
		{service: "lexv2.amazonaws.com", role: "AWSServiceRoleForLexV2Bots", policy: "AmazonLexV2BotPolicy", suffix: true},
		{service: "elasticloadbalancing.amazonaws.com", role: "AWSServiceRoleForElasticLoadBalancing", policy: "AWSElasticLoadBalancingServiceRolePolicy"},
		{service: "ecs.amazonaws.com", role: "AWSServiceRoleForECS", policy: "AmazonECSServiceRolePolicy"},
		{service: "rds.amazonaws.com", role: "AWSServiceRoleForRDS", policy: "AmazonRDSServiceRolePolicy"},
		{service: "eks.amazonaws.com", role: "AWSServiceRoleForAmazonEKS", policy: "AmazonEKSServiceRolePolicy"},
		{service: "eks-nodegroup.amazonaws.com", role: "AWSServiceRoleForAmazonEKSNodegroup", policy: "AWSServiceRoleForAmazonEKSNodegroup"},
		{service: "eks-fargate.amazonaws.com", role: "AWSServiceRoleForAmazonEKSForFargate", policy: "AmazonEKSForFargateServiceRolePolicy"},
		{service: "es.amazonaws.com", role: "AWSServiceRoleForAmazonElasticsearchService", policy: "AmazonElasticsearchServiceRolePolicy"},
		{service: "opensearchservice.amazonaws.com", role: "AWSServiceRoleForAmazonOpenSearchService", policy: "AmazonOpenSearchServiceRolePolicy"},
		{service: "elasticbeanstalk.amazonaws.com", role: "AWSServiceRoleForElasticBeanstalk", policy: "AWSElasticBeanstalkServiceRolePolicy"},
		{service: "spot.amazonaws.com", role: "AWSServiceRoleForEC2Spot", policy: "AWSEC2SpotServiceRolePolicy"},
		{service: "spotfleet.amazonaws.com", role: "AWSServiceRoleForEC2SpotFleet", policy: "AWSEC2SpotFleetServiceRolePolicy"},
		{service: "ec2fleet.amazonaws.com", role: "AWSServiceRoleForEC2Fleet", policy: "AWSEC2FleetServiceRolePolicy"},
		{service: "guardduty.amazonaws.com", role: "AWSServiceRoleForAmazonGuardDuty", policy: "AmazonGuardDutyServiceRolePolicy"},
		{service: "organizations.amazonaws.com", role: "AWSServiceRoleForOrganizations", policy: "AWSOrganizationsServiceTrustPolicy"},
		{service: "support.amazonaws.com", role: "AWSServiceRoleForSupport", policy: "AWSSupportServiceRolePolicy"},
		{service: "trustedadvisor.amazonaws.com", role: "AWSServiceRoleForTrustedAdvisor", policy: "AWSTrustedAdvisorServiceRolePolicy"},
		{service: "config.amazonaws.com", role: "AWSServiceRoleForConfig", policy: "AWSConfigServiceRolePolicy"},
		{service: "ssm.amazonaws.com", role: "AWSServiceRoleForAmazonSSM", policy: "AmazonSSMServiceRolePolicy"},
		{service: "cloudtrail.amazonaws.com", role: "AWSServiceRoleForCloudTrail", policy: "CloudTrailServiceRolePolicy"},
		{service: "elasticache.amazonaws.com", role: "AWSServiceRoleForElastiCache", policy: "ElastiCacheServiceRolePolicy"},
		{service: "redshift.amazonaws.com", role: "AWSServiceRoleForRedshift", policy: "AmazonRedshiftServiceLinkedRolePolicy"},
		{service: "kafka.amazonaws.com", role: "AWSServiceRoleForKafka", policy: "KafkaServiceRolePolicy"},
		{service: "backup.amazonaws.com", role: "AWSServiceRoleForBackup", policy: "AWSBackupServiceLinkedRolePolicyForBackup"},
		{service: "sso.amazonaws.com", role: "AWSServiceRoleForSSO", policy: "AWSSSOServiceRolePolicy"},
		{service: "access-analyzer.amazonaws.com", role: "AWSServiceRoleForAccessAnalyzer", policy: "AccessAnalyzerServiceRolePolicy"},
		{service: "securityhub.amazonaws.com", role: "AWSServiceRoleForSecurityHub", policy: "AWSSecurityHubServiceRolePolicy"},
		{service: "ops.apigateway.amazonaws.com", role: "AWSServiceRoleForAPIGateway", policy: "APIGatewayServiceRolePolicy"},
		{service: "batch.amazonaws.com", role: "AWSServiceRoleForBatch", policy: "BatchServiceRolePolicy"},
		{service: "dynamodb.application-autoscaling.amazonaws.com", role: "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable", policy: "AWSApplicationAutoscalingDynamoDBTablePolicy"},
		{service: "ecs.application-autoscaling.amazonaws.com", role: "AWSServiceRoleForApplicationAutoScaling_ECSService", policy: "AWSApplicationAutoscalingECSServicePolicy"},
	}
}

// knownLinkedService returns what IAM knows of service's service-linked role.
func knownLinkedService(service string) (linkedService, bool) {
	for _, l := range linkedServices() {
		if l.service == service {
			return l, true
		}
	}
	return linkedService{}, false
}

const servicePrincipalSuffix = ".amazonaws.com"

// isServicePrincipal reports whether name has the form of an AWS service principal: labels of
// lower-case letters, digits and hyphens before .amazonaws.com.
func isServicePrincipal(name string) bool {
	labels, ok := strings.CutSuffix(name, servicePrincipalSuffix)
	if !ok || labels == "" {
		return false
	}
	for label := range strings.SplitSeq(labels, ".") {
		if label == "" || label[0] == '-' {
			return false
		}
		for _, c := range label {
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return false
			}
		}
	}
	return true
}

// serviceLinkedRoleName is the name of the role CreateServiceLinkedRole makes for service:
// AWS's name for a service it documents, otherwise AWSServiceRoleFor and the labels of the
// service principal from the most general, each part capitalized (AWS's own names follow that
// pattern in the simple cases: replicator.lambda.amazonaws.com has
// AWSServiceRoleForLambdaReplicator). A suffix is joined with "_", as AWS does
// (AWSServiceRoleForAutoScaling_mysuffix). Authorization calls it with unchecked input.
func serviceLinkedRoleName(service, suffix string) string {
	name := "AWSServiceRoleFor"
	if known, ok := knownLinkedService(service); ok {
		name = known.role
	} else {
		labels := strings.Split(strings.TrimSuffix(service, servicePrincipalSuffix), ".")
		for i := len(labels) - 1; i >= 0; i-- {
			for part := range strings.SplitSeq(labels[i], "-") {
				if part != "" {
					name += strings.ToUpper(part[:1]) + part[1:]
				}
			}
		}
	}
	if suffix != "" {
		name += "_" + suffix
	}
	return name
}

// slrTrustPolicy lets the service, and only it, assume its role, written as AWS shows it
// (Amazon Lex V1 Developer Guide, "Step 1: Create a Service-Linked Role": get-role of
// AWSServiceRoleForLexBots).
func slrTrustPolicy(service string) string {
	return `{"Version":"2012-10-17","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"` + service + `"}}]}`
}

func (s *Service) serviceLinkedRoleOperations() []operation {
	return []operation{
		{"CreateServiceLinkedRole", awsquery.Handle(s.CreateServiceLinkedRole)},
		{"DeleteServiceLinkedRole", awsquery.Handle(s.DeleteServiceLinkedRole)},
		{"GetServiceLinkedRoleDeletionStatus", awsquery.Handle(s.GetServiceLinkedRoleDeletionStatus)},
	}
}

// maxRoleNameLength is the RoleName constraint of the API model.
const maxRoleNameLength = 64

// CreateServiceLinkedRole creates the role a service uses on the account's behalf, at
// /aws-service-role/SERVICE/, trusted by the service, with the service's managed policy when
// IAM knows it.
func (s *Service) CreateServiceLinkedRole(ctx context.Context, in *iam.CreateServiceLinkedRoleInput) (*iam.CreateServiceLinkedRoleOutput, error) {
	account := caller(ctx).Account
	service, suffix := *in.AWSServiceName, aws.ToString(in.CustomSuffix)
	known, isKnown := knownLinkedService(service)
	if !isKnown && !isServicePrincipal(service) {
		return nil, awsquery.InvalidInput("%s is not the service principal of an AWS service that supports service-linked roles, such as elasticbeanstalk.amazonaws.com.", service)
	}
	if suffix != "" && isKnown && !known.suffix {
		return nil, awsquery.InvalidInput("Custom suffix is not allowed for %s", service)
	}
	name := serviceLinkedRoleName(service, suffix)
	if len(name) > maxRoleNameLength {
		return nil, awsquery.InvalidInput("The role name %s is longer than %d characters; use a shorter CustomSuffix.", name, maxRoleNameLength)
	}
	r := &store.Role{
		ID:                       s.ids.UniqueID("AROA"),
		Name:                     name,
		Path:                     slrPathPrefix + service + "/",
		CreateDate:               s.timestamp(),
		AssumeRolePolicyDocument: slrTrustPolicy(service),
		Description:              aws.ToString(in.Description),
		MaxSessionDuration:       defaultMaxSessionDuration,
	}
	taken := func() error {
		return awsquery.InvalidInput("Service role name %s has been taken in this account, please try a different suffix.", name)
	}
	// Only a new role and its attachment: no existing principal's grants change.
	err := s.create(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.Get(ctx, store.KindRole, account, store.NameKey(name)); err == nil {
			return taken()
		} else if !isNotFound(err) {
			return err
		}
		n, err := tx.Count(ctx, store.KindRole, account, "")
		if err != nil {
			return err
		}
		if n >= maxRolesPerAccount {
			return awsquery.LimitExceeded("Cannot exceed quota for RolesPerAccount: %d", maxRolesPerAccount)
		}
		if err := tx.Insert(ctx, roleRecord(account, r)); isExists(err) {
			return taken()
		} else if err != nil {
			return err
		}
		if known.policy == "" {
			return nil
		}
		m, err := entity.FindPolicy(ctx, tx, account, "arn:aws:iam::aws:policy"+slrPathPrefix+known.policy)
		if err != nil {
			return err
		}
		if m == nil {
			return fmt.Errorf("service-linked role policy %s of %s is not an AWS managed policy", known.policy, service)
		}
		return tx.AddLink(ctx, store.Link{Account: account, Kind: store.LinkAttached, From: store.PrincipalRef(store.KindRole, r.ID), To: m.ARN})
	})
	if err != nil {
		return nil, err
	}
	out := sdkRole(account, r, roleCreated)
	return &iam.CreateServiceLinkedRoleOutput{Role: &out}, nil
}

// DeleteServiceLinkedRole deletes a service-linked role with its policies and returns the
// deletion task. AWS deletes asynchronously and fails the task while the service still uses
// the role; no service of this deployment uses one, so the deletion is done, and the task
// SUCCEEDED, when the answer arrives.
func (s *Service) DeleteServiceLinkedRole(ctx context.Context, in *iam.DeleteServiceLinkedRoleInput) (*iam.DeleteServiceLinkedRoleOutput, error) {
	account := caller(ctx).Account
	var taskID string
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		r, err := loadRole(ctx, tx, account, *in.RoleName)
		if err != nil {
			return err
		}
		if !isServiceLinked(r) {
			return awsquery.InvalidInput("The role %s is not a service-linked role; delete it with DeleteRole.", r.Name)
		}
		ref := store.PrincipalRef(store.KindRole, r.ID)
		links, err := tx.LinksFrom(ctx, account, store.LinkAttached, ref)
		if err != nil {
			return err
		}
		for _, l := range links {
			if err := tx.RemoveLink(ctx, l); err != nil {
				return err
			}
		}
		inline, err := tx.List(ctx, store.KindInlinePolicy, account, store.Query{Prefix: store.ChildKey(r.ID, "")})
		if err != nil {
			return err
		}
		for _, p := range inline {
			if err := tx.Delete(ctx, store.KindInlinePolicy, account, p.Key); err != nil {
				return err
			}
		}
		if err := tx.Delete(ctx, store.KindRole, account, store.NameKey(r.Name)); err != nil {
			return err
		}
		// task/aws-service-role/SERVICE/ROLE/UUID, as AWS documents the DeletionTaskId.
		taskID = "task" + r.Path + r.Name + "/" + newUUID()
		task := store.SLRDeletionTask{ID: taskID, RoleName: r.Name, Status: string(types.DeletionTaskStatusTypeSucceeded), Submitted: s.timestamp()}
		return tx.Insert(ctx, store.Record{Account: account, Kind: store.KindSLRDeletionTask, Key: taskID, Data: store.Encode(task)})
	})
	if err != nil {
		return nil, err
	}
	return &iam.DeleteServiceLinkedRoleOutput{DeletionTaskId: aws.String(taskID)}, nil
}

// GetServiceLinkedRoleDeletionStatus reports how a deletion task of the account ended.
func (s *Service) GetServiceLinkedRoleDeletionStatus(ctx context.Context, in *iam.GetServiceLinkedRoleDeletionStatusInput) (*iam.GetServiceLinkedRoleDeletionStatusOutput, error) {
	account := caller(ctx).Account
	id := *in.DeletionTaskId
	if parts := strings.Split(id, "/"); len(parts) != 5 || parts[0] != "task" || parts[1] != "aws-service-role" || slices.Contains(parts, "") {
		return nil, awsquery.InvalidInput("Invalid deletion task id %s: a DeletionTaskId has the form task/aws-service-role/SERVICE/ROLE/ID.", id)
	}
	var task *store.SLRDeletionTask
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		task, err = store.Load[store.SLRDeletionTask](ctx, tx, store.KindSLRDeletionTask, account, id)
		if isNotFound(err) {
			return awsquery.NoSuchEntity("Deletion task %s does not exist.", id)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iam.GetServiceLinkedRoleDeletionStatusOutput{Status: types.DeletionTaskStatusType(task.Status)}, nil
}

// newUUID returns a random UUID (version 4), the last part of a DeletionTaskId.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
