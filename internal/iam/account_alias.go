package iam

import (
	"context"
	"net/http"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Account aliases. An alias is unique across the deployment (AWS: "unique across all Amazon Web
// Services products within a given network partition") and an account has at most one (IAM User
// Guide, "Your AWS account ID and its alias"). Both rules are the store's: the record lives
// outside accounts under Key = the alias, and its ID is the owning account's id, which the store
// keeps unique within the kind.

// aliasMessage is IAM's answer to an alias that breaks the model's pattern
// ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$: its own text, as for paths, rather than a
// constraint violation (AWS's answer quoted in app-sre/qontract-schemas PR 824). RE2 has no
// look-ahead, so the decoder leaves the pattern to checkAliasPattern; it does check the 3..63
// length, in the constraint form, before the handler runs.
const aliasMessage = "The specified value for accountAlias is invalid. It must be a minimum length of 3 characters and maximum length of 63 characters, contain only digits, lowercase letters, and hyphens (-), but cannot begin or end with a hyphen."

var (
	accountAliasChars = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*[a-z0-9]$`)
	// twelveDigits: an alias "cannot be a 12 digit number" (IAM User Guide, "Limitations on IAM
	// Entities"): it would read as an account id in the sign-in URL.
	twelveDigits = regexp.MustCompile(`^[0-9]{12}$`)
)

func (s *Service) accountAliasOperations() []operation {
	return []operation{
		{"CreateAccountAlias", awsquery.Handle(s.CreateAccountAlias)},
		{"DeleteAccountAlias", awsquery.Handle(s.DeleteAccountAlias)},
		{"ListAccountAliases", awsquery.Handle(s.ListAccountAliases)},
	}
}

// checkAliasPattern checks the model's pattern, two hyphens in a row included.
func checkAliasPattern(alias string) error {
	if !accountAliasChars.MatchString(alias) || strings.Contains(alias, "--") {
		return awsquery.ValidationError("%s", aliasMessage)
	}
	return nil
}

// validAccountAlias checks a new alias: the model's pattern and the rule against account ids.
func validAccountAlias(alias string) error {
	if err := checkAliasPattern(alias); err != nil {
		return err
	}
	if twelveDigits.MatchString(alias) {
		// AWS's text for this rule is not documented; this one says what is wrong.
		return awsquery.ValidationError("The account alias %s is invalid: an alias cannot be a 12-digit number, which would read as an account ID.", alias)
	}
	return nil
}

func accountAliasRecord(account, alias string) store.Record {
	return store.Record{Kind: store.KindAccountAlias, Key: alias, ID: account, Data: store.Encode(store.AccountAlias{Alias: alias, Account: account})}
}

// loadAccountAlias returns the account's alias; "" when it has none.
func loadAccountAlias(ctx context.Context, tx store.Tx, account string) (string, error) {
	a, _, err := store.LoadByID[store.AccountAlias](ctx, tx, store.KindAccountAlias, account)
	if isNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return a.Alias, nil
}

// CreateAccountAlias gives the caller's account an alias. An alias the account already has is
// replaced ("If you create a new alias for your AWS account, the new alias overwrites the
// previous alias", IAM User Guide). A name that is taken, by any account including this one,
// is EntityAlreadyExists with AWS's text ("The account alias my-prod-account already exists.",
// quoted from AWS in aws-nuke issue 697 and aws-deployment-framework PR 465).
func (s *Service) CreateAccountAlias(ctx context.Context, in *iam.CreateAccountAliasInput) (*iam.CreateAccountAliasOutput, error) {
	account := caller(ctx).Account
	alias := *in.AccountAlias
	if err := validAccountAlias(alias); err != nil {
		return nil, err
	}
	taken := func() error { return awsquery.EntityAlreadyExists("The account alias %s already exists.", alias) }
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.Get(ctx, store.KindAccountAlias, "", alias); err == nil {
			return taken()
		} else if !isNotFound(err) {
			return err
		}
		old, err := loadAccountAlias(ctx, tx, account)
		if err != nil {
			return err
		}
		if old != "" {
			if err := tx.Delete(ctx, store.KindAccountAlias, "", old); err != nil {
				return err
			}
		}
		err = tx.Insert(ctx, accountAliasRecord(account, alias))
		if isExists(err) {
			// A concurrent request took the alias or gave this account another one: the
			// operation's documented ConcurrentModification, with the API Reference's text.
			return awsquery.Errorf(http.StatusConflict, "ConcurrentModification", "The request was rejected because multiple requests to change this object were submitted simultaneously. Wait a few minutes and submit your request again.")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iam.CreateAccountAliasOutput{}, nil
}

// DeleteAccountAlias removes the account's alias, which the request must name: another name,
// including another account's alias, is NoSuchEntity and changes nothing.
func (s *Service) DeleteAccountAlias(ctx context.Context, in *iam.DeleteAccountAliasInput) (*iam.DeleteAccountAliasOutput, error) {
	account := caller(ctx).Account
	alias := *in.AccountAlias
	if err := checkAliasPattern(alias); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(ctx context.Context, tx store.Tx) error {
		current, err := loadAccountAlias(ctx, tx, account)
		if err != nil {
			return err
		}
		if current != alias {
			// AWS's text is not documented; this follows IAM's "... cannot be found." texts.
			return awsquery.NoSuchEntity("The account alias %s cannot be found.", alias)
		}
		return tx.Delete(ctx, store.KindAccountAlias, "", alias)
	})
	if err != nil {
		return nil, err
	}
	return &iam.DeleteAccountAliasOutput{}, nil
}

// ListAccountAliases lists the account's alias: none or one, so a page is never truncated,
// but Marker and MaxItems are honoured as in every IAM listing.
func (s *Service) ListAccountAliases(ctx context.Context, in *iam.ListAccountAliasesInput) (*iam.ListAccountAliasesOutput, error) {
	account := caller(ctx).Account
	pg, err := pageOf(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	var alias string
	err = s.view(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		alias, err = loadAccountAlias(ctx, tx, account)
		return err
	})
	if err != nil {
		return nil, err
	}
	var all []string
	if alias != "" {
		all = []string{alias}
	}
	key := func(a string) string { return a }
	aliases, truncated, next, err := cut(after(all, pg.after, key), pg.limit, key)
	if err != nil {
		return nil, err
	}
	if aliases == nil {
		aliases = []string{} // a required member: <AccountAliases/> when there is none
	}
	return &iam.ListAccountAliasesOutput{AccountAliases: aliases, IsTruncated: truncated, Marker: next}, nil
}
