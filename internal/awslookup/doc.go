// Package awslookup holds the AWS lookups that some mappings need beyond the
// STS answer: IAM group membership for mapGroups (package iamgroups) and the
// EC2 private DNS name behind {{EC2PrivateDNSName}} (package ec2dns).
//
// Both are on the authentication path of every matching review, so both are
// cached, bounded, rate limited and fail closed: any doubt about the answer
// is an error, and the mapping layer then grants nothing that depends on it.
package awslookup
