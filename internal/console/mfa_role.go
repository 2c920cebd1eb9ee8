package console

import (
	"cmp"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-iam/gatehouse/internal/session"
)

// mfaSetup is the page of a virtual MFA device being assigned: the QR code and the seed are
// shown once, from CreateVirtualMFADevice's answer, and never stored by the console.
type mfaSetup struct {
	UserName, Serial, Seed string
	QR                     template.URL
	Base                   string // the user's page, where the device is enabled
}

// assignMFA creates a virtual MFA device for the user and shows its QR code and seed; the
// device is enabled by enableMFA with two consecutive codes, as in AWS's console.
func (c *Console) assignMFA(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	name := r.PathValue("name")
	out, err := c.iamClient(cs).CreateVirtualMFADevice(r.Context(), &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String(strings.TrimSpace(r.PostFormValue("device")))})
	if err != nil {
		c.redirectUser(w, r, cs, name, apiMessage(err))
		return
	}
	d := out.VirtualMFADevice
	c.render(w, http.StatusOK, "mfa_setup", page{Title: "Assign MFA device", S: cs, CSRF: cs.CSRF, Data: mfaSetup{
		UserName: name, Serial: aws.ToString(d.SerialNumber), Seed: string(d.Base32StringSeed), Base: userPagePath(name),
		// The QR code is a PNG from the API, shown as a data: URL (the CSP allows data: images).
		QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(d.QRCodePNG)),
	}})
}

// userPagePath is the page of the user name ("": the root user's security credentials).
func userPagePath(name string) string {
	if name == "" {
		return Prefix + "/iam/security-credentials"
	}
	return Prefix + "/iam/users/" + url.PathEscape(name)
}

// enableMFA enables the device with two consecutive codes; on a refusal the unused device
// is deleted again, so a failed assignment leaves nothing behind.
func (c *Console) enableMFA(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	client, name, serial := c.iamClient(cs), r.PathValue("name"), r.PostFormValue("serial")
	code1, code2 := strings.TrimSpace(r.PostFormValue("code1")), strings.TrimSpace(r.PostFormValue("code2"))
	var err error
	if name == "" && cs.UserName == "" && c.sessions.role(cs, c.opts.Now()) == nil {
		// The root user's own device: EnableMFADevice needs a user name, so AWS does this in
		// the console only, as Gatehouse does through iam.EnableRootMFADevice.
		err = c.opts.Auth.EnableRootMFADevice(r.Context(), cs.Account, serial, code1, code2)
	} else {
		_, err = client.EnableMFADevice(r.Context(), &iam.EnableMFADeviceInput{UserName: userRef(name), SerialNumber: aws.String(serial),
			AuthenticationCode1: aws.String(code1), AuthenticationCode2: aws.String(code2)})
	}
	msg := ""
	if err != nil {
		msg = apiMessage(err)
		_, _ = client.DeleteVirtualMFADevice(r.Context(), &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(serial)})
	}
	c.redirectUser(w, r, cs, name, msg)
}

// removeMFA deactivates the user's device and deletes it.
func (c *Console) removeMFA(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	client, name, serial := c.iamClient(cs), r.PathValue("name"), aws.String(r.PostFormValue("serial"))
	_, err := client.DeactivateMFADevice(r.Context(), &iam.DeactivateMFADeviceInput{UserName: userRef(name), SerialNumber: serial})
	if err == nil {
		_, err = client.DeleteVirtualMFADevice(r.Context(), &iam.DeleteVirtualMFADeviceInput{SerialNumber: serial})
	}
	msg := ""
	if err != nil {
		msg = apiMessage(err)
	}
	c.redirectUser(w, r, cs, name, msg)
}

// roleSession is the role the console acts as after "Switch role".
type roleSession struct {
	ARN, Display, Color string
	Creds               session.Credentials
}

// roleColors are the colours AWS's switch-role page offers, as CSS classes (no inline style).
func roleColors() []string { return []string{"red", "orange", "yellow", "green", "blue"} }

func (c *Console) switchRolePage(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	c.render(w, http.StatusOK, "switch_role", page{Title: "Switch role", S: cs, CSRF: cs.CSRF, Error: c.sessions.takeFlash(r.Context(), cs), Data: roleColors()})
}

// switchRole assumes the role with the signed-in identity's credentials (the user's own
// sts:AssumeRole permission and the role's trust policy decide) and acts as that role
// session until "Back".
func (c *Console) switchRole(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	account, role := strings.TrimSpace(r.PostFormValue("account")), strings.TrimSpace(r.PostFormValue("role"))
	display := cmp.Or(strings.TrimSpace(r.PostFormValue("display")), role)
	color := r.PostFormValue("color")
	if !slices.Contains(roleColors(), color) {
		color = roleColors()[0]
	}
	if resolved, ok, err := c.opts.Auth.AccountForSignIn(r.Context(), account); err == nil && ok {
		account = resolved
	}
	roleARN := "arn:aws:iam::" + account + ":role/" + role
	base := c.clientConfig(cs.Creds) // the signed-in identity assumes the role
	out, err := sts.NewFromConfig(base).AssumeRole(r.Context(), &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String(sessionName(cs))})
	if err != nil {
		c.sessions.setFlash(r.Context(), cs, apiMessage(err))
		http.Redirect(w, r, Prefix+"/iam/switch-role", http.StatusSeeOther)
		return
	}
	cr := out.Credentials
	c.sessions.setRole(r.Context(), cs, &roleSession{ARN: aws.ToString(out.AssumedRoleUser.Arn), Display: display, Color: color,
		Creds: session.Credentials{AccessKeyID: *cr.AccessKeyId, SecretAccessKey: *cr.SecretAccessKey, SessionToken: *cr.SessionToken, Expiration: *cr.Expiration}})
	c.opts.Logger.InfoContext(r.Context(), "console switch role", "caller", cs.ARN, "role", aws.ToString(out.AssumedRoleUser.Arn))
	http.Redirect(w, r, Prefix+"/iam/", http.StatusSeeOther)
}

// switchBack returns to the signed-in identity.
func (c *Console) switchBack(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	c.sessions.setRole(r.Context(), cs, nil)
	http.Redirect(w, r, Prefix+"/iam/", http.StatusSeeOther)
}

// sessionName is the role session's name: the user's name, as AWS's console uses it.
func sessionName(cs *consoleSession) string {
	if cs.UserName == "" {
		return "root"
	}
	return cs.UserName
}

// credentialReport downloads the account's credential report, generating it first when
// there is none (as the console's "Download credentials report" does).
func (c *Console) credentialReport(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	client := c.iamClient(cs)
	if _, err := client.GenerateCredentialReport(r.Context(), &iam.GenerateCredentialReportInput{}); err != nil {
		c.sessions.setFlash(r.Context(), cs, apiMessage(err))
		http.Redirect(w, r, Prefix+"/iam/account", http.StatusSeeOther)
		return
	}
	out, err := client.GetCredentialReport(r.Context(), &iam.GetCredentialReportInput{})
	if err != nil {
		c.sessions.setFlash(r.Context(), cs, apiMessage(err))
		http.Redirect(w, r, Prefix+"/iam/account", http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Type", "text/csv")
	w.Header().Set("Content-Disposition", `attachment; filename="status_reports_`+url.PathEscape(out.GeneratedTime.UTC().Format("2006-01-02T15_04_05"))+`.csv"`)
	_, _ = w.Write(out.Content)
}
