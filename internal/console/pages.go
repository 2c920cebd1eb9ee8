package console

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/server"
)

// usersPerPage is the users list's page size.
const usersPerPage = 50

// finding is a dashboard warning with where it is fixed.
type finding struct{ Text, Link string }

type dashboard struct {
	Summary  map[string]int32
	Findings []finding
	// ReportTime is when the credential report the user findings come from was made.
	ReportTime string
}

// keyAgeLimit: access keys older than this, or unused for this long, are findings (AWS's
// security recommendations use 90 days).
const keyAgeLimit = 90 * 24 * time.Hour

func (c *Console) dashboard(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	p := page{Title: "IAM dashboard", S: cs, CSRF: cs.CSRF, Error: c.sessions.takeFlash(r.Context(), cs)}
	client := c.iamClient(cs)
	out, err := client.GetAccountSummary(r.Context(), &iam.GetAccountSummaryInput{})
	if err != nil {
		p.fail(apiMessage(err))
		c.render(w, http.StatusOK, "dashboard", p)
		return
	}
	d := dashboard{Summary: out.SummaryMap}
	if out.SummaryMap["AccountMFAEnabled"] == 0 {
		d.Findings = append(d.Findings, finding{"The root user has no MFA device.", Prefix + "/iam/security-credentials"})
	}
	if out.SummaryMap["AccountAccessKeysPresent"] == 1 {
		d.Findings = append(d.Findings, finding{"The root user has access keys: use IAM users or roles instead.", Prefix + "/iam/security-credentials"})
	}
	userFindings, when, err := c.credentialFindings(r, client)
	if err != nil {
		p.fail(apiMessage(err))
	}
	d.Findings, d.ReportTime = append(d.Findings, userFindings...), when
	d.Findings = append(d.Findings, c.wildcardFindings(r, client)...)
	p.Data = d
	c.render(w, http.StatusOK, "dashboard", p)
}

// credentialFindings reads the credential report (generating it when there is none, or it is
// older than four hours): users with a console password and no MFA, active access keys older
// than 90 days or unused for 90 days.
func (c *Console) credentialFindings(r *http.Request, client *iam.Client) ([]finding, string, error) {
	if _, err := client.GenerateCredentialReport(r.Context(), &iam.GenerateCredentialReportInput{}); err != nil {
		return nil, "", err
	}
	rep, err := client.GetCredentialReport(r.Context(), &iam.GetCredentialReportInput{})
	if err != nil {
		return nil, "", err
	}
	rows, err := csv.NewReader(bytes.NewReader(rep.Content)).ReadAll()
	if err != nil || len(rows) == 0 {
		return nil, "", fmt.Errorf("the credential report is not CSV: %w", err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	now := c.opts.Now()
	old := func(v string) bool {
		t, err := time.Parse(time.RFC3339, v)
		return err == nil && now.Sub(t) > keyAgeLimit
	}
	var out []finding
	for _, row := range rows[1:] {
		user := row[col["user"]]
		if user == "<root_account>" {
			continue
		}
		link := Prefix + "/iam/users/" + url.PathEscape(user)
		if row[col["password_enabled"]] == "true" && row[col["mfa_active"]] == "false" {
			out = append(out, finding{"User " + user + " has console access and no MFA device.", link})
		}
		for _, k := range []string{"access_key_1", "access_key_2"} {
			if row[col[k+"_active"]] != "true" {
				continue
			}
			rotated, used := row[col[k+"_last_rotated"]], row[col[k+"_last_used_date"]]
			switch {
			case old(rotated):
				out = append(out, finding{"User " + user + " has an access key older than 90 days.", link})
			case old(used) || used == "N/A" && old(rotated):
				out = append(out, finding{"User " + user + " has an access key unused for 90 days.", link})
			}
		}
	}
	return out, rep.GeneratedTime.UTC().Format("2006-01-02 15:04 UTC"), nil
}

// wildcardFindings names the customer-managed policies in use whose default version allows
// every action of every service ("*:*"), reading at most one page of them.
func (c *Console) wildcardFindings(r *http.Request, client *iam.Client) []finding {
	list, err := client.ListPolicies(r.Context(), &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal, OnlyAttached: true})
	if err != nil {
		return nil
	}
	var out []finding
	for _, pol := range list.Policies {
		v, err := client.GetPolicyVersion(r.Context(), &iam.GetPolicyVersionInput{PolicyArn: pol.Arn, VersionId: pol.DefaultVersionId})
		if err != nil {
			continue
		}
		doc, err := url.QueryUnescape(aws.ToString(v.PolicyVersion.Document))
		if err != nil {
			continue
		}
		rows, _ := c.describe(doc)
		for _, row := range rows {
			if row.Effect == "Allow" && row.Service == "All services" && row.Access == "Full access" {
				out = append(out, finding{"Policy " + aws.ToString(pol.PolicyName) + " allows every action on every service (*:*).",
					Prefix + "/iam/policy?arn=" + url.QueryEscape(aws.ToString(pol.Arn))})
				break
			}
		}
	}
	return out
}

type usersList struct {
	Search string
	Users  []types.User
	Next   string // the Marker of the next page
	Groups []types.Group
}

// usersPage lists users a page at a time; a search keeps only names containing it, ignoring
// case, as the console's search box does.
func (c *Console) usersPage(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	c.render(w, http.StatusOK, "users", c.usersData(r, cs, ""))
}

func (c *Console) usersData(r *http.Request, cs *consoleSession, msg string) page {
	p := page{Title: "Users", S: cs, CSRF: cs.CSRF, Error: msg}
	client := c.iamClient(cs)
	d := usersList{Search: r.FormValue("search")}
	var err error
	d.Users, d.Next, err = search(r, usersPerPage, func(u types.User) string { return *u.UserName },
		func(marker *string, max int32) ([]types.User, *string, error) {
			out, err := client.ListUsers(r.Context(), &iam.ListUsersInput{Marker: marker, MaxItems: aws.Int32(max)})
			if err != nil {
				return nil, nil, err
			}
			return out.Users, out.Marker, nil
		})
	if err != nil {
		p.fail(apiMessage(err))
	}
	if groups, err := client.ListGroups(r.Context(), &iam.ListGroupsInput{}); err == nil {
		d.Groups = groups.Groups
	}
	p.Data = d
	return p
}

// createUser creates a user, with a console password and a group when chosen, as the
// console's create-user page does: each step is its own API call, and the first refusal is
// shown with AWS's message.
func (c *Console) createUser(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	client := c.iamClient(cs)
	name := strings.TrimSpace(r.PostFormValue("name"))
	if _, err := client.CreateUser(r.Context(), &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		c.render(w, http.StatusBadRequest, "users", c.usersData(r, cs, apiMessage(err)))
		return
	}
	if pw := r.PostFormValue("password"); pw != "" {
		_, err := client.CreateLoginProfile(r.Context(), &iam.CreateLoginProfileInput{UserName: aws.String(name), Password: aws.String(pw),
			PasswordResetRequired: r.PostFormValue("reset") == "on"})
		if err != nil {
			c.redirectUser(w, r, cs, name, "The user was created, but its console password was refused: "+apiMessage(err))
			return
		}
		if err := attachChangePassword(r, client, name, r.PostFormValue("reset") == "on"); err != nil {
			c.redirectUser(w, r, cs, name, "The user was created, but attaching IAMUserChangePassword was refused: "+apiMessage(err))
			return
		}
	}
	if g := r.PostFormValue("group"); g != "" {
		if _, err := client.AddUserToGroup(r.Context(), &iam.AddUserToGroupInput{UserName: aws.String(name), GroupName: aws.String(g)}); err != nil {
			c.redirectUser(w, r, cs, name, "The user was created, but adding it to the group was refused: "+apiMessage(err))
			return
		}
	}
	c.redirectUser(w, r, cs, name, "")
}

// search reads a listing a page at a time from the request's marker and keeps the items whose
// name contains the request's search text, ignoring case, as the console's search boxes do:
// it stops after a page that fills limit and returns the marker of the next one. A search
// reads IAM's largest pages, 1000 items, to show a few.
func search[T any](r *http.Request, limit int32, name func(T) string, list func(marker *string, max int32) ([]T, *string, error)) ([]T, string, error) {
	needle := strings.ToLower(r.FormValue("search"))
	size := limit
	if needle != "" {
		size = 1000
	}
	var marker *string
	if m := r.FormValue("marker"); m != "" {
		marker = aws.String(m)
	}
	var kept []T
	for {
		items, next, err := list(marker, size)
		if err != nil {
			return kept, "", err
		}
		for _, it := range items {
			if strings.Contains(strings.ToLower(name(it)), needle) {
				kept = append(kept, it)
			}
		}
		if next == nil || *next == "" {
			return kept, "", nil
		}
		if len(kept) >= int(limit) {
			return kept, *next, nil
		}
		marker = next
	}
}

// changePasswordPolicy lets users change their own password: AWS's console attaches it when
// it sets "User must create new password at next sign-in" ("Users automatically get the
// IAMUserChangePassword policy to allow them to change their own password").
const changePasswordPolicy = "arn:aws:iam::aws:policy/IAMUserChangePassword"

func attachChangePassword(r *http.Request, client *iam.Client, name string, reset bool) error {
	if !reset {
		return nil
	}
	_, err := client.AttachUserPolicy(r.Context(), &iam.AttachUserPolicyInput{UserName: aws.String(name), PolicyArn: aws.String(changePasswordPolicy)})
	return err
}

// redirectUser shows the user's page ("": the root user's security credentials), with a
// message when a step failed.
func (c *Console) redirectUser(w http.ResponseWriter, r *http.Request, cs *consoleSession, name, msg string) {
	c.sessions.setFlash(r.Context(), cs, msg)
	http.Redirect(w, r, userPagePath(name), http.StatusSeeOther)
}

// userRef is the UserName of a call about the user name: none for "", so that the call is
// about the caller itself (the root user on its security credentials page).
func userRef(name string) *string {
	if name == "" {
		return nil
	}
	return aws.String(name)
}

type rootView struct {
	Keys             []types.AccessKeyMetadata
	MFA              []types.MFADevice
	NewKey           *newKey
	Base, DeviceName string
}

// securityCredentials is "My security credentials": the root user's access keys and MFA
// device; an IAM user's own user page.
func (c *Console) securityCredentials(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	if cs.UserName != "" {
		http.Redirect(w, r, Prefix+"/iam/users/"+url.PathEscape(cs.UserName), http.StatusSeeOther)
		return
	}
	ctx, client := r.Context(), c.iamClient(cs)
	p := page{Title: "My security credentials (root user)", S: cs, CSRF: cs.CSRF, Error: c.sessions.takeFlash(r.Context(), cs)}
	v := rootView{NewKey: c.sessions.showKey(r.Context(), cs, ""), Base: userPagePath(""), DeviceName: "root-account-mfa-device"}
	if out, err := client.ListAccessKeys(ctx, &iam.ListAccessKeysInput{}); err == nil {
		v.Keys = out.AccessKeyMetadata
	} else {
		p.fail(apiMessage(err))
	}
	if out, err := client.ListMFADevices(ctx, &iam.ListMFADevicesInput{}); err == nil {
		v.MFA = out.MFADevices
	} else {
		p.fail(apiMessage(err))
	}
	p.Data = v
	c.render(w, http.StatusOK, "root_credentials", p)
}

type userView struct {
	User          *types.User
	Groups        []types.Group
	Attached      []types.AttachedPolicy
	Inline        []string
	Keys          []types.AccessKeyMetadata
	LoginProfile  *types.LoginProfile
	MFA           []types.MFADevice
	NoPermissions bool
	NewKey        *newKey
	Base          string // where the page's forms post
	DeviceName    string // the default name of a new MFA device
}

// userPage is a user's details. Each part is its own call; a part the signed-in identity may
// not read shows AWS's message instead.
func (c *Console) userPage(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	ctx, client, name := r.Context(), c.iamClient(cs), r.PathValue("name")
	p := page{Title: "User " + name, S: cs, CSRF: cs.CSRF, Error: c.sessions.takeFlash(r.Context(), cs)}
	u, err := client.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
	if err != nil {
		p.fail(apiMessage(err))
		c.render(w, http.StatusOK, "user", p)
		return
	}
	v := userView{User: u.User, Base: userPagePath(name), DeviceName: name}
	var errs []string
	note := func(err error) {
		if err != nil {
			errs = append(errs, apiMessage(err))
		}
	}
	if out, err := client.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String(name)}); err == nil {
		v.Groups = out.Groups
	} else {
		note(err)
	}
	if out, err := client.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(name)}); err == nil {
		v.Attached = out.AttachedPolicies
	} else {
		note(err)
	}
	if out, err := client.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String(name)}); err == nil {
		v.Inline = out.PolicyNames
	} else {
		note(err)
	}
	if out, err := client.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(name)}); err == nil {
		v.Keys = out.AccessKeyMetadata
	} else {
		note(err)
	}
	if out, err := client.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String(name)}); err == nil {
		v.MFA = out.MFADevices
	} else {
		note(err)
	}
	if out, err := client.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(name)}); err == nil {
		v.LoginProfile = out.LoginProfile
	} else if !strings.Contains(apiMessage(err), "NoSuchEntity") {
		note(err)
	}
	v.NoPermissions = len(errs) == 0 && len(v.Groups) == 0 && len(v.Attached) == 0 && len(v.Inline) == 0 && u.User.PermissionsBoundary == nil
	v.NewKey = c.sessions.showKey(r.Context(), cs, name)
	p.fail(strings.Join(errs, "\n"))
	p.Data = v
	c.render(w, http.StatusOK, "user", p)
}

// userAction runs one change on a user's page; a refusal shows AWS's message on the page and
// changes nothing.
func (c *Console) userAction(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	ctx, client, name := r.Context(), c.iamClient(cs), r.PathValue("name")
	user := userRef(name)
	var err error
	action := r.PathValue("action")
	if name == "" && !slices.Contains([]string{"create-key", "deactivate-key", "activate-key", "delete-key"}, action) {
		http.NotFound(w, r) // the root user's page has its keys only (and its MFA device)
		return
	}
	switch action {
	case "create-key":
		var out *iam.CreateAccessKeyOutput
		if out, err = client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: user}); err == nil {
			c.sessions.stashKey(ctx, cs, &newKey{ID: *out.AccessKey.AccessKeyId, Secret: *out.AccessKey.SecretAccessKey, UserName: name})
		}
	case "deactivate-key", "activate-key":
		status := types.StatusTypeInactive
		if action == "activate-key" {
			status = types.StatusTypeActive
		}
		_, err = client.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: user, AccessKeyId: aws.String(r.PostFormValue("key")), Status: status})
	case "delete-key":
		_, err = client.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: user, AccessKeyId: aws.String(r.PostFormValue("key"))})
	case "set-password":
		in := &iam.CreateLoginProfileInput{UserName: user, Password: aws.String(r.PostFormValue("password")), PasswordResetRequired: r.PostFormValue("reset") == "on"}
		if _, err = client.CreateLoginProfile(ctx, in); err != nil && strings.Contains(apiMessage(err), "EntityAlreadyExists") {
			_, err = client.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: user, Password: in.Password, PasswordResetRequired: aws.Bool(in.PasswordResetRequired)})
		}
		if err == nil {
			err = attachChangePassword(r, client, name, in.PasswordResetRequired)
		}
	case "delete-password":
		_, err = client.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: user})
	case "add-group":
		_, err = client.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: user, GroupName: aws.String(r.PostFormValue("group"))})
	case "delete":
		if err = c.deleteUser(r, client, name); err == nil {
			http.Redirect(w, r, Prefix+"/iam/users", http.StatusSeeOther)
			return
		}
	default:
		http.NotFound(w, r)
		return
	}
	msg := ""
	if err != nil {
		msg = apiMessage(err)
	}
	c.redirectUser(w, r, cs, name, msg)
}

// deleteUser removes what AWS's console removes before DeleteUser: the login profile, access
// keys, group memberships, attached and inline policies, MFA devices, signing certificates,
// SSH public keys and service-specific credentials.
func (c *Console) deleteUser(r *http.Request, client *iam.Client, name string) error {
	ctx, user := r.Context(), aws.String(name)
	if _, err := client.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: user}); err != nil && !strings.Contains(apiMessage(err), "NoSuchEntity") {
		return err
	}
	keys, err := client.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: user})
	if err != nil {
		return err
	}
	for _, k := range keys.AccessKeyMetadata {
		if _, err := client.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: user, AccessKeyId: k.AccessKeyId}); err != nil {
			return err
		}
	}
	groups, err := client.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: user})
	if err != nil {
		return err
	}
	for _, g := range groups.Groups {
		if _, err := client.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: user, GroupName: g.GroupName}); err != nil {
			return err
		}
	}
	attached, err := client.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: user})
	if err != nil {
		return err
	}
	for _, a := range attached.AttachedPolicies {
		if _, err := client.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: user, PolicyArn: a.PolicyArn}); err != nil {
			return err
		}
	}
	inline, err := client.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: user})
	if err != nil {
		return err
	}
	for _, n := range inline.PolicyNames {
		if _, err := client.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: user, PolicyName: aws.String(n)}); err != nil {
			return err
		}
	}
	mfa, err := client.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: user})
	if err != nil {
		return err
	}
	for _, d := range mfa.MFADevices {
		if _, err := client.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: user, SerialNumber: d.SerialNumber}); err != nil {
			return err
		}
		if strings.Contains(aws.ToString(d.SerialNumber), ":mfa/") { // a virtual device: it goes too
			if _, err := client.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: d.SerialNumber}); err != nil {
				return err
			}
		}
	}
	certs, err := client.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{UserName: user})
	if err != nil {
		return err
	}
	for _, c := range certs.Certificates {
		if _, err := client.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{UserName: user, CertificateId: c.CertificateId}); err != nil {
			return err
		}
	}
	ssh, err := client.ListSSHPublicKeys(ctx, &iam.ListSSHPublicKeysInput{UserName: user})
	if err != nil {
		return err
	}
	for _, k := range ssh.SSHPublicKeys {
		if _, err := client.DeleteSSHPublicKey(ctx, &iam.DeleteSSHPublicKeyInput{UserName: user, SSHPublicKeyId: k.SSHPublicKeyId}); err != nil {
			return err
		}
	}
	creds, err := client.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{UserName: user})
	if err != nil {
		return err
	}
	for _, c := range creds.ServiceSpecificCredentials {
		if _, err := client.DeleteServiceSpecificCredential(ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: user, ServiceSpecificCredentialId: c.ServiceSpecificCredentialId}); err != nil {
			return err
		}
	}
	_, err = client.DeleteUser(ctx, &iam.DeleteUserInput{UserName: user})
	return err
}

// accessKeyCSV downloads a just-created key once, in the console's format
// ("Access key ID,Secret access key").
func (c *Console) accessKeyCSV(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	k, err := c.sessions.takeKey(r.Context(), cs)
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	if k == nil {
		http.Error(w, "The secret access key can be downloaded only once, right after the key is created.", http.StatusGone)
		return
	}
	w.Header().Set("Content-Type", "text/csv")
	file := k.UserName + "_accessKeys.csv"
	if k.UserName == "" {
		file = "rootkey.csv" // the name AWS's console gives the root user's key file
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+file+`"`)
	cw := csv.NewWriter(w)
	_ = cw.WriteAll([][]string{{"Access key ID", "Secret access key"}, {k.ID, k.Secret}})
}

type accountView struct {
	Alias     string
	SignInURL string
	Policy    *types.PasswordPolicy
}

func (c *Console) accountPage(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	c.render(w, http.StatusOK, "account", c.accountData(r, cs, c.sessions.takeFlash(r.Context(), cs)))
}

func (c *Console) accountData(r *http.Request, cs *consoleSession, msg string) page {
	p := page{Title: "Account settings", S: cs, CSRF: cs.CSRF, Error: msg}
	client := c.iamClient(cs)
	v := accountView{}
	var errs []string
	if out, err := client.ListAccountAliases(r.Context(), &iam.ListAccountAliasesInput{}); err == nil {
		if len(out.AccountAliases) > 0 {
			v.Alias = out.AccountAliases[0]
		}
	} else {
		errs = append(errs, apiMessage(err))
	}
	if out, err := client.GetAccountPasswordPolicy(r.Context(), &iam.GetAccountPasswordPolicyInput{}); err == nil {
		v.Policy = out.PasswordPolicy
	} else if !strings.Contains(apiMessage(err), "NoSuchEntity") {
		errs = append(errs, apiMessage(err))
	}
	scheme := "http"
	if server.SecureTransport(r) {
		scheme = "https"
	}
	v.SignInURL = scheme + "://" + r.Host + Prefix + "/" + cmp.Or(v.Alias, cs.Account)
	p.fail(strings.Join(slices.Compact(errs), "\n"))
	p.Data = v
	return p
}

// passwordPolicyInput reads the account page's password policy form.
func passwordPolicyInput(r *http.Request) *iam.UpdateAccountPasswordPolicyInput {
	on := func(name string) bool { return r.PostFormValue(name) == "on" }
	number := func(name string) *int32 {
		n, err := strconv.ParseInt(strings.TrimSpace(r.PostFormValue(name)), 10, 32)
		if err != nil || n == 0 {
			return nil // empty: IAM's default (no expiry, no reuse prevention)
		}
		v := int32(n)
		return &v
	}
	return &iam.UpdateAccountPasswordPolicyInput{
		MinimumPasswordLength: number("min-length"), RequireUppercaseCharacters: on("upper"), RequireLowercaseCharacters: on("lower"),
		RequireNumbers: on("numbers"), RequireSymbols: on("symbols"), AllowUsersToChangePassword: on("users-change"),
		MaxPasswordAge: number("max-age"), PasswordReusePrevention: number("reuse"), HardExpiry: aws.Bool(on("hard-expiry")),
	}
}

func (c *Console) accountAction(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	client := c.iamClient(cs)
	var err error
	switch r.PathValue("action") {
	case "alias":
		alias := strings.TrimSpace(r.PostFormValue("alias"))
		if _, err = client.CreateAccountAlias(r.Context(), &iam.CreateAccountAliasInput{AccountAlias: aws.String(alias)}); err == nil {
			c.sessions.setAlias(r.Context(), cs, alias)
		}
	case "password-policy":
		_, err = client.UpdateAccountPasswordPolicy(r.Context(), passwordPolicyInput(r))
	case "delete-password-policy":
		_, err = client.DeleteAccountPasswordPolicy(r.Context(), &iam.DeleteAccountPasswordPolicyInput{})
	case "delete-alias":
		if _, err = client.DeleteAccountAlias(r.Context(), &iam.DeleteAccountAliasInput{AccountAlias: aws.String(r.PostFormValue("alias"))}); err == nil {
			c.sessions.setAlias(r.Context(), cs, "")
		}
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		c.sessions.setFlash(r.Context(), cs, apiMessage(err))
	}
	http.Redirect(w, r, Prefix+"/iam/account", http.StatusSeeOther)
}
