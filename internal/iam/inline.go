package iam

// TODO(stub): replaced by the real operations.
func (s *Service) inlinePolicyOperations() []operation { return nil }
