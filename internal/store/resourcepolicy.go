package store

import "time"

// KindResourcePolicy is the resource-based policy of a resource of a service Gatehouse
// protects (--services): Account = the resource's owner, Key = the resource's ARN as given.
const KindResourcePolicy Kind = "resource-policy"

// ResourcePolicy is one resource's policy document.
type ResourcePolicy struct {
	ResourceARN string    `json:"arn"`
	Document    string    `json:"document"`
	UpdateDate  time.Time `json:"updated"`
}
