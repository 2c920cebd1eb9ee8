package iam

// TODO(stub): replaced by the real operations.
func (s *Service) tagOperations() []operation { return nil }
