// Package samlmeta reads SAML 2.0 metadata documents (the EntityDescriptor an identity
// provider publishes) and checks what IAM needs from one: the issuer (entityID), an
// IDPSSODescriptor for the SAML 2.0 protocol, at least one signing certificate, and the
// optional validUntil date. It parses and validates only; verifying assertions signed with
// those certificates is another package's job.
//
// encoding/xml never fetches or expands external entities, so a document cannot make the
// parser read files or the network.
package samlmeta
