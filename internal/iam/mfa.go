package iam

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/entity"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/totp"
)

// Quotas of MFA devices (IAM and AWS STS quotas).
const (
	maxMFADevicesPerUser = 8    // in use by one IAM user, or by the root user
	maxVirtualMFADevices = 5000 // per account, assigned or not: the quota of users
)

// How many 30-second time steps either side of now a code may come from. Enabling allows for
// the time a person takes to type two codes; resynchronising finds a device whose clock ran
// off; a sign-in code tolerates one step of clock difference.
const (
	mfaEnableWindow = 2
	mfaResyncWindow = 20
	mfaVerifyWindow = 1
)

// mfaCode is the TOTP that virtual MFA devices run: RFC 6238 with HMAC-SHA1, six digits, 30 s.
var mfaCode = totp.Default

// ErrInvalidMFACode is wrapped by the errors VerifyMFACode returns for a code it refuses: wrong,
// already used, or for a device the user does not have.
var ErrInvalidMFACode = errors.New("iam: invalid MFA code")

// invalidAuthenticationCode is IAM's answer to a wrong or replayed code; it wraps
// ErrInvalidMFACode for Go callers.
func invalidAuthenticationCode() error {
	return fmt.Errorf("%w: %w", awsquery.Errorf(http.StatusForbidden, "InvalidAuthenticationCode", "Authentication code for device is not valid."), ErrInvalidMFACode)
}

func (s *Service) mfaOperations() []operation {
	return []operation{
		{"CreateVirtualMFADevice", awsquery.Handle(s.CreateVirtualMFADevice)},
		{"EnableMFADevice", awsquery.Handle(s.EnableMFADevice)},
		{"ResyncMFADevice", awsquery.Handle(s.ResyncMFADevice)},
		{"DeactivateMFADevice", awsquery.Handle(s.DeactivateMFADevice)},
		{"DeleteVirtualMFADevice", awsquery.Handle(s.DeleteVirtualMFADevice)},
		{"ListMFADevices", awsquery.Handle(s.ListMFADevices)},
		{"ListVirtualMFADevices", awsquery.Handle(s.ListVirtualMFADevices)},
		{"GetMFADevice", awsquery.Handle(s.GetMFADevice)},
		{"TagMFADevice", awsquery.Handle(s.TagMFADevice)},
		{"UntagMFADevice", awsquery.Handle(s.UntagMFADevice)},
		{"ListMFADeviceTags", awsquery.Handle(s.ListMFADeviceTags)},
	}
}

// noSuchMFADevice and the duplicate device's "MFA device already exists." are AWS's texts
// (LocalStack's recordings of AWS, test_iam_mfa.snapshot.json: DeleteVirtualMFADevice and
// DeactivateMFADevice of an unknown device, CreateVirtualMFADevice of a taken name).
func noSuchMFADevice(serial string) error {
	return awsquery.NoSuchEntity("MFA Device with serial number %s does not exist.", serial)
}

// notEnabledFor is the NoSuchEntity of a device that exists but is not enabled for owner.
func notEnabledFor(serial string, owner keyOwner) error {
	if owner.userName == "" {
		return awsquery.NoSuchEntity("MFA Device with serial number %s is not enabled for the root user.", serial)
	}
	return awsquery.NoSuchEntity("MFA Device with serial number %s is not enabled for user %s.", serial, owner.userName)
}

// mfaDeviceKey is the store key of the device a serial number names in account: the ARN's
// resource after "mfa", path and name, in lower case. ok is false for a serial number that is
// not a virtual device of account (hardware serials, other accounts).
func mfaDeviceKey(account, serial string) (string, bool) {
	acct, rest, ok := arnResource(serial, "mfa/")
	if !ok || acct != account {
		return "", false
	}
	return store.NameKey("/" + rest), true
}

func mfaRecord(account, key string, d *store.MFADevice) store.Record {
	return store.Record{Account: account, Kind: store.KindMFADevice, Key: key, ID: d.SerialNumber, Path: d.Path, Data: store.Encode(d)}
}

// loadMFADevice reads the virtual device a serial number names, answering NoSuchEntity when
// there is none. It returns the device's store key too.
func loadMFADevice(ctx context.Context, tx store.Tx, account, serial string) (*store.MFADevice, string, error) {
	key, ok := mfaDeviceKey(account, serial)
	if !ok {
		return nil, "", noSuchMFADevice(serial)
	}
	d, err := store.Load[store.MFADevice](ctx, tx, store.KindMFADevice, account, key)
	if isNotFound(err) {
		return nil, "", noSuchMFADevice(serial)
	}
	return d, key, err
}

// countMFADevices is how many MFA devices are enabled for a user (or, with the account id, for
// the root user). DeleteUser refuses to delete a user who has any.
func countMFADevices(ctx context.Context, tx store.Tx, account, ownerID string) (int, error) {
	return tx.Count(ctx, store.KindMFAAssignment, account, store.ChildKey(ownerID, ""))
}

// CreateVirtualMFADevice makes a virtual MFA device with a new seed. The seed, in Base32 and as
// a QR code PNG of its otpauth:// URI, is returned only here; it is stored sealed.
func (s *Service) CreateVirtualMFADevice(ctx context.Context, in *iam.CreateVirtualMFADeviceInput) (*iam.CreateVirtualMFADeviceOutput, error) {
	account := caller(ctx).Account
	if err := validatePath(in.Path); err != nil {
		return nil, err
	}
	tags, err := tagsFromInput(in.Tags)
	if err != nil {
		return nil, err
	}
	d := &store.MFADevice{Path: defaultPath(in.Path), Name: *in.VirtualMFADeviceName, CreateDate: s.timestamp(), Tags: tags}
	d.SerialNumber = entity.ARN(account, "mfa", d.Path, d.Name)
	seed, err := totp.NewSeed()
	if err != nil {
		return nil, s.internal(ctx, err)
	}
	if d.SeedCiphertext, err = s.box.Seal(seed, []byte(d.SerialNumber)); err != nil {
		return nil, s.internal(ctx, fmt.Errorf("seal seed of %s: %w", d.SerialNumber, err))
	}
	// AWS's QR code encodes otpauth://totp/$virtualMFADeviceName@$AccountName?secret=$Base32String.
	png, err := totp.QRCodePNG(totp.URI(d.Name+"@"+account, seed, ""))
	if err != nil {
		return nil, s.internal(ctx, err)
	}
	err = s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		n, err := tx.Count(ctx, store.KindMFADevice, account, "")
		if err != nil {
			return err
		}
		err = tx.Insert(ctx, mfaRecord(account, store.NameKey(d.Path+d.Name), d))
		if isExists(err) {
			return awsquery.EntityAlreadyExists("MFA device already exists.")
		}
		if err == nil && n >= maxVirtualMFADevices {
			return awsquery.LimitExceeded("Cannot exceed quota for VirtualMFADevicesPerAccount: %d", maxVirtualMFADevices)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iam.CreateVirtualMFADeviceOutput{VirtualMFADevice: &types.VirtualMFADevice{
		SerialNumber:     aws.String(d.SerialNumber),
		Base32StringSeed: []byte(totp.EncodeSeed(seed)),
		QRCodePNG:        png,
		Tags:             sdkTags(d.Tags),
	}}, nil
}

// openSeed decrypts a device's seed.
func (s *Service) openSeed(d *store.MFADevice) ([]byte, error) {
	seed, err := s.box.Open(d.SeedCiphertext, []byte(d.SerialNumber))
	if err != nil {
		return nil, fmt.Errorf("open seed of %s: %w", d.SerialNumber, err)
	}
	return seed, nil
}

// enableMFA assigns an unassigned device to owner after checking two consecutive codes.
func (s *Service) enableMFA(ctx context.Context, tx store.Tx, account string, owner keyOwner, serial, code1, code2 string) error {
	d, key, err := loadMFADevice(ctx, tx, account, serial)
	if err != nil {
		return err
	}
	if d.OwnerID != "" {
		return awsquery.EntityAlreadyExists("MFA Device is already in use.")
	}
	n, err := countMFADevices(ctx, tx, account, owner.id)
	if err != nil {
		return err
	}
	if n >= maxMFADevicesPerUser {
		return awsquery.LimitExceeded("Cannot exceed quota for MFADevicesPerUser: %d", maxMFADevicesPerUser)
	}
	seed, err := s.openSeed(d)
	if err != nil {
		return err
	}
	step, ok := mfaCode.VerifyPair(seed, code1, code2, mfaCode.Step(s.now()), mfaEnableWindow, d.LastStep)
	if !ok {
		return invalidAuthenticationCode()
	}
	now := s.timestamp()
	d.OwnerID, d.EnableDate, d.LastStep, d.Drift = owner.id, &now, step, 0
	if err := tx.Insert(ctx, store.Record{Account: account, Kind: store.KindMFAAssignment, Key: store.ChildKey(owner.id, key), Data: store.Encode(store.MFAAssignment{DeviceKey: key})}); err != nil {
		return err
	}
	return tx.Replace(ctx, mfaRecord(account, key, d))
}

// EnableMFADevice assigns a virtual MFA device to a user, proven by two consecutive codes.
func (s *Service) EnableMFADevice(ctx context.Context, in *iam.EnableMFADeviceInput) (*iam.EnableMFADeviceOutput, error) {
	account := caller(ctx).Account
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		u, err := loadUser(ctx, tx, account, *in.UserName)
		if err != nil {
			return err
		}
		return s.enableMFA(ctx, tx, account, keyOwner{id: u.ID, userName: u.Name}, *in.SerialNumber, *in.AuthenticationCode1, *in.AuthenticationCode2)
	})
	if err != nil {
		return nil, err
	}
	return &iam.EnableMFADeviceOutput{}, nil
}

// EnableRootMFADevice assigns a virtual MFA device to the root user of account, proven by two
// consecutive codes. AWS allows this only from the console (EnableMFADevice needs a user
// name), so it is a Go call for Gatehouse's console, not an API operation.
func (s *Service) EnableRootMFADevice(ctx context.Context, account, serialNumber, code1, code2 string) error {
	return s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		return s.enableMFA(ctx, tx, account, keyOwner{id: account}, serialNumber, code1, code2)
	})
}

// loadOwnedMFADevice reads a device that must be enabled for owner.
func loadOwnedMFADevice(ctx context.Context, tx store.Tx, account, serial string, owner keyOwner) (*store.MFADevice, string, error) {
	d, key, err := loadMFADevice(ctx, tx, account, serial)
	if err != nil {
		return nil, "", err
	}
	if d.OwnerID != owner.id {
		return nil, "", notEnabledFor(serial, owner)
	}
	return d, key, nil
}

// ResyncMFADevice resynchronises a user's device whose clock drifted: two consecutive codes
// from up to ten minutes either side of now set the device's drift.
func (s *Service) ResyncMFADevice(ctx context.Context, in *iam.ResyncMFADeviceInput) (*iam.ResyncMFADeviceOutput, error) {
	account := caller(ctx).Account
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		u, err := loadUser(ctx, tx, account, *in.UserName)
		if err != nil {
			return err
		}
		d, key, err := loadOwnedMFADevice(ctx, tx, account, *in.SerialNumber, keyOwner{id: u.ID, userName: u.Name})
		if err != nil {
			return err
		}
		seed, err := s.openSeed(d)
		if err != nil {
			return err
		}
		now := mfaCode.Step(s.now())
		step, ok := mfaCode.VerifyPair(seed, *in.AuthenticationCode1, *in.AuthenticationCode2, now, mfaResyncWindow, d.LastStep)
		if !ok {
			return invalidAuthenticationCode()
		}
		d.LastStep, d.Drift = step, step-now
		return tx.Replace(ctx, mfaRecord(account, key, d))
	})
	if err != nil {
		return nil, err
	}
	return &iam.ResyncMFADeviceOutput{}, nil
}

// DeactivateMFADevice unassigns a device from a user, or from the caller when no user name is
// given (the root user's devices for root). The device remains, unassigned.
func (s *Service) DeactivateMFADevice(ctx context.Context, in *iam.DeactivateMFADeviceInput) (*iam.DeactivateMFADeviceOutput, error) {
	p := caller(ctx)
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		owner, err := resolveKeyOwner(ctx, tx, p, in.UserName)
		if err != nil {
			return err
		}
		d, key, err := loadOwnedMFADevice(ctx, tx, p.Account, *in.SerialNumber, owner)
		if err != nil {
			return err
		}
		if err := tx.Delete(ctx, store.KindMFAAssignment, p.Account, store.ChildKey(owner.id, key)); err != nil {
			return err
		}
		// LastStep stays: codes already used remain used if the device is enabled again.
		d.OwnerID, d.EnableDate = "", nil
		return tx.Replace(ctx, mfaRecord(p.Account, key, d))
	})
	if err != nil {
		return nil, err
	}
	return &iam.DeactivateMFADeviceOutput{}, nil
}

// DeleteVirtualMFADevice deletes a virtual device that is not assigned to anyone.
func (s *Service) DeleteVirtualMFADevice(ctx context.Context, in *iam.DeleteVirtualMFADeviceInput) (*iam.DeleteVirtualMFADeviceOutput, error) {
	account := caller(ctx).Account
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		d, key, err := loadMFADevice(ctx, tx, account, *in.SerialNumber)
		if err != nil {
			return err
		}
		if d.OwnerID != "" {
			return awsquery.DeleteConflict("MFA Device is still in use. Deactivate it before deleting it.")
		}
		return tx.Delete(ctx, store.KindMFADevice, account, key)
	})
	if err != nil {
		return nil, err
	}
	return &iam.DeleteVirtualMFADeviceOutput{}, nil
}

// ListMFADevices lists the devices enabled for a user, or for the caller when no user name is
// given.
func (s *Service) ListMFADevices(ctx context.Context, in *iam.ListMFADevicesInput) (*iam.ListMFADevicesOutput, error) {
	p := caller(ctx)
	pg, err := pageOf(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iam.ListMFADevicesOutput{MFADevices: []types.MFADevice{}}
	err = s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		owner, err := resolveKeyOwner(ctx, tx, p, in.UserName)
		if err != nil {
			return err
		}
		recs, truncated, marker, err := list(ctx, tx, store.KindMFAAssignment, p.Account, store.Query{Prefix: store.ChildKey(owner.id, "")}, pg)
		if err != nil {
			return err
		}
		for _, r := range recs {
			var a store.MFAAssignment
			if err := store.Decode(r, &a); err != nil {
				return err
			}
			d, err := store.Load[store.MFADevice](ctx, tx, store.KindMFADevice, p.Account, a.DeviceKey)
			if err != nil {
				return fmt.Errorf("device of MFA assignment %s: %w", r.Key, err)
			}
			out.MFADevices = append(out.MFADevices, types.MFADevice{
				SerialNumber: aws.String(d.SerialNumber),
				EnableDate:   d.EnableDate,
				UserName:     owner.sdkUserName(),
			})
		}
		out.IsTruncated, out.Marker = truncated, marker
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// listFiltered is list for kinds filtered by something the store cannot query: it reads on
// until it has a page of records that keep accepts, or the kind is exhausted.
func listFiltered(ctx context.Context, tx store.Tx, kind store.Kind, account string, pg page, keep func(store.Record) (bool, error)) ([]store.Record, bool, *string, error) {
	var out []store.Record
	after := pg.after
	for len(out) <= pg.limit {
		batch := pg.limit + 1
		recs, err := tx.List(ctx, kind, account, store.Query{After: after, Limit: batch})
		if err != nil {
			return nil, false, nil, err
		}
		for _, r := range recs {
			ok, err := keep(r)
			if err != nil {
				return nil, false, nil, err
			}
			if ok && len(out) <= pg.limit {
				out = append(out, r)
			}
		}
		if len(recs) < batch {
			break
		}
		after = recs[len(recs)-1].Key
	}
	return cut(out, pg.limit, func(r store.Record) string { return r.Key })
}

// ListVirtualMFADevices lists the account's virtual devices, assigned, unassigned or both
// (the default), with the user each is assigned to.
func (s *Service) ListVirtualMFADevices(ctx context.Context, in *iam.ListVirtualMFADevicesInput) (*iam.ListVirtualMFADevicesOutput, error) {
	p := caller(ctx)
	pg, err := pageOf(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	status := in.AssignmentStatus
	if status == "" {
		status = types.AssignmentStatusTypeAny
	}
	out := &iam.ListVirtualMFADevicesOutput{VirtualMFADevices: []types.VirtualMFADevice{}}
	err = s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		devices := map[string]*store.MFADevice{}
		recs, truncated, marker, err := listFiltered(ctx, tx, store.KindMFADevice, p.Account, pg, func(r store.Record) (bool, error) {
			var d store.MFADevice
			if err := store.Decode(r, &d); err != nil {
				return false, err
			}
			devices[r.Key] = &d
			switch status {
			case types.AssignmentStatusTypeAssigned:
				return d.OwnerID != "", nil
			case types.AssignmentStatusTypeUnassigned:
				return d.OwnerID == "", nil
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		users := map[string]*types.User{}
		for _, r := range recs {
			d := devices[r.Key]
			v := types.VirtualMFADevice{SerialNumber: aws.String(d.SerialNumber), EnableDate: d.EnableDate}
			if d.OwnerID != "" {
				if users[d.OwnerID] == nil {
					u, err := s.mfaUser(ctx, tx, p, d.OwnerID)
					if err != nil {
						return err
					}
					users[d.OwnerID] = u
				}
				v.User = users[d.OwnerID]
			}
			out.VirtualMFADevices = append(out.VirtualMFADevices, v)
		}
		out.IsTruncated, out.Marker = truncated, marker
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// mfaUser is the User element of a device's owner: an IAM user, or the root user, which AWS
// shows with the account's ARN and id and no name or path.
func (s *Service) mfaUser(ctx context.Context, tx store.Tx, p *principal.Principal, ownerID string) (*types.User, error) {
	if ownerID == p.Account {
		acct, err := store.Load[store.Account](ctx, tx, store.KindAccount, "", p.Account)
		if err != nil {
			return nil, fmt.Errorf("account %s: %w", p.Account, err)
		}
		return &types.User{Arn: aws.String("arn:aws:iam::" + p.Account + ":root"), UserId: aws.String(p.Account), CreateDate: aws.Time(acct.CreateDate)}, nil
	}
	u, _, err := store.LoadByID[store.User](ctx, tx, store.KindUser, ownerID)
	if err != nil {
		return nil, fmt.Errorf("owner %s of an MFA device: %w", ownerID, err)
	}
	out := sdkUser(p.Account, u, false)
	return &out, nil
}

// GetMFADevice describes a device enabled for a user, or for the caller when no user name is
// given.
func (s *Service) GetMFADevice(ctx context.Context, in *iam.GetMFADeviceInput) (*iam.GetMFADeviceOutput, error) {
	p := caller(ctx)
	var out *iam.GetMFADeviceOutput
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		owner, err := resolveKeyOwner(ctx, tx, p, in.UserName)
		if err != nil {
			return err
		}
		d, _, err := loadOwnedMFADevice(ctx, tx, p.Account, *in.SerialNumber, owner)
		if err != nil {
			return err
		}
		out = &iam.GetMFADeviceOutput{SerialNumber: aws.String(d.SerialNumber), EnableDate: d.EnableDate, UserName: owner.sdkUserName()}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func mfaTags() tagged {
	return tagged{load: func(ctx context.Context, tx store.Tx, account, serial string) ([]store.Tag, func([]store.Tag) store.Record, error) {
		d, key, err := loadMFADevice(ctx, tx, account, serial)
		if err != nil {
			return nil, nil, err
		}
		return d.Tags, func(tags []store.Tag) store.Record {
			d.Tags = tags
			return mfaRecord(account, key, d)
		}, nil
	}}
}

// TagMFADevice adds tags to a virtual device or overwrites the values of keys it has.
func (s *Service) TagMFADevice(ctx context.Context, in *iam.TagMFADeviceInput) (*iam.TagMFADeviceOutput, error) {
	err := s.retag(ctx, mfaTags(), *in.SerialNumber, func(have []store.Tag) ([]store.Tag, error) { return mergeTags(have, in.Tags) })
	if err != nil {
		return nil, err
	}
	return &iam.TagMFADeviceOutput{}, nil
}

// UntagMFADevice removes tags from a virtual device; keys it does not have are ignored.
func (s *Service) UntagMFADevice(ctx context.Context, in *iam.UntagMFADeviceInput) (*iam.UntagMFADeviceOutput, error) {
	err := s.retag(ctx, mfaTags(), *in.SerialNumber, func(have []store.Tag) ([]store.Tag, error) { return removeTags(have, in.TagKeys), nil })
	if err != nil {
		return nil, err
	}
	return &iam.UntagMFADeviceOutput{}, nil
}

// ListMFADeviceTags lists a virtual device's tags.
func (s *Service) ListMFADeviceTags(ctx context.Context, in *iam.ListMFADeviceTagsInput) (*iam.ListMFADeviceTagsOutput, error) {
	tags, truncated, marker, err := s.listTags(ctx, mfaTags(), *in.SerialNumber, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iam.ListMFADeviceTagsOutput{Tags: tags, IsTruncated: truncated, Marker: marker}, nil
}

// VerifyMFACode checks a code from the device serialNumber, which must be enabled for userID
// (a user id, or the account id for the root user), as STS does for AssumeRole and
// GetSessionToken. A code is accepted once: the step it belongs to is stored before
// VerifyMFACode returns, and that step or an earlier one is refused afterwards. A refused
// code is an InvalidAuthenticationCode error wrapping ErrInvalidMFACode; nothing is changed.
func (s *Service) VerifyMFACode(ctx context.Context, account, serialNumber, userID, code string) error {
	return s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		d, key, err := loadMFADevice(ctx, tx, account, serialNumber)
		if awsquery.AsError(err) != nil || (err == nil && d.OwnerID != userID) {
			// Unknown devices and other users' devices look the same as a wrong code.
			return invalidAuthenticationCode()
		}
		if err != nil {
			return err
		}
		seed, err := s.openSeed(d)
		if err != nil {
			return err
		}
		step, ok := mfaCode.Verify(seed, code, mfaCode.Step(s.now())+d.Drift, mfaVerifyWindow, d.LastStep)
		if !ok {
			return invalidAuthenticationCode()
		}
		d.LastStep = step
		return tx.Replace(ctx, mfaRecord(account, key, d))
	})
}
