// Package arn parses Amazon Resource Names and matches them against the wildcard patterns that
// IAM policies use in Resource elements and in the Arn* condition operators.
//
// An ARN has six colon-separated fields: "arn", partition, service, region, account and resource.
// The resource field may itself contain colons. IAM matches a pattern against an ARN field by
// field: a wildcard in one of the first five fields never spans a colon, while a wildcard in the
// resource field matches across colons (IAM User Guide, "IAM JSON policy elements: Resource" and
// "Amazon Resource Name (ARN) condition operators").
package arn
