package iam

// TODO(stub): replaced by the real operations.
func (s *Service) policyOperations() []operation { return nil }
