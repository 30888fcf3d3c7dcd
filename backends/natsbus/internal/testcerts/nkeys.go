package testcerts

import (
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// NKeyUser is an NKey user key pair with its seed in a file.
type NKeyUser struct {
	// Public is the user's public key (U...), what the server lists.
	Public string
	// Seed is the private seed (SU...), for leak checks.
	Seed string
	// SeedFile is the path of a file holding Seed.
	SeedFile string
}

// NewNKeyUser creates a user key pair and writes its seed to a file in a
// new temporary directory.
func NewNKeyUser(tb testing.TB) NKeyUser {
	tb.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		tb.Fatalf("testcerts: nkey user: %v", err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		tb.Fatalf("testcerts: nkey user: %v", err)
	}
	seed, err := kp.Seed()
	if err != nil {
		tb.Fatalf("testcerts: nkey user: %v", err)
	}
	return NKeyUser{Public: pub, Seed: string(seed), SeedFile: WriteFile(tb, tb.TempDir(), "user.nk", seed)}
}

// Operator is a NATS operator (decentralized, JWT authentication) with a
// system account and one account, "APP", whose users Creds makes.
type Operator struct {
	// Claims is the operator's decoded JWT, what the server trusts.
	Claims *jwt.OperatorClaims
	// Account and System are the public keys of the APP and SYS accounts.
	Account, System string
	// AccountJWT and SystemJWT are their JWTs, signed by the operator.
	AccountJWT, SystemJWT string

	account nkeys.KeyPair
}

// NewOperator creates an operator, its system account and the APP
// account.
func NewOperator(tb testing.TB) *Operator {
	tb.Helper()
	okp := create(tb, nkeys.CreateOperator)
	oc := jwt.NewOperatorClaims(public(tb, okp))
	oc.Name = "busway-test"
	ojwt, err := oc.Encode(okp)
	if err != nil {
		tb.Fatalf("testcerts: operator JWT: %v", err)
	}
	o := &Operator{account: create(tb, nkeys.CreateAccount)}
	if o.Claims, err = jwt.DecodeOperatorClaims(ojwt); err != nil {
		tb.Fatalf("testcerts: operator JWT: %v", err)
	}
	o.Account, o.AccountJWT = accountJWT(tb, okp, o.account, "APP")
	o.System, o.SystemJWT = accountJWT(tb, okp, create(tb, nkeys.CreateAccount), "SYS")
	return o
}

// Configure sets opts up to trust the operator: TrustedOperators, an
// in-memory account resolver holding both accounts, and SystemAccount.
func (o *Operator) Configure(tb testing.TB, opts *server.Options) {
	tb.Helper()
	r := &server.MemAccResolver{}
	for pub, j := range map[string]string{o.Account: o.AccountJWT, o.System: o.SystemJWT} {
		if err := r.Store(pub, j); err != nil {
			tb.Fatalf("testcerts: resolver: %v", err)
		}
	}
	opts.TrustedOperators = []*jwt.OperatorClaims{o.Claims}
	opts.AccountResolver = r
	opts.SystemAccount = o.System
}

// Creds is a user of an account, as a credentials file.
type Creds struct {
	// File is the path of the credentials file (JWT and seed).
	File string
	// Seed is the user's private seed (SU...), for leak checks.
	Seed string
	// JWT is the user's JWT.
	JWT string
}

// Creds creates a user of the APP account named name and writes its
// credentials file in a new temporary directory. edit, when not nil, can
// change the claims (permissions, limits) before they are signed.
func (o *Operator) Creds(tb testing.TB, name string, edit func(*jwt.UserClaims)) Creds {
	tb.Helper()
	return UserCreds(tb, o.account, name, edit)
}

// UserCreds creates a user named name signed by the account key pair
// signer and writes its credentials file. Signing with an account the
// server does not know gives credentials that fail to authenticate.
func UserCreds(tb testing.TB, signer nkeys.KeyPair, name string, edit func(*jwt.UserClaims)) Creds {
	tb.Helper()
	ukp := create(tb, nkeys.CreateUser)
	uc := jwt.NewUserClaims(public(tb, ukp))
	uc.Name = name
	if edit != nil {
		edit(uc)
	}
	ujwt, err := uc.Encode(signer)
	if err != nil {
		tb.Fatalf("testcerts: user JWT: %v", err)
	}
	seed, err := ukp.Seed()
	if err != nil {
		tb.Fatalf("testcerts: user seed: %v", err)
	}
	creds, err := jwt.FormatUserConfig(ujwt, seed)
	if err != nil {
		tb.Fatalf("testcerts: credentials: %v", err)
	}
	return Creds{File: WriteFile(tb, tb.TempDir(), name+".creds", creds), Seed: string(seed), JWT: ujwt}
}

// NewAccountKey creates an account key pair, e.g. to sign users the
// server does not trust with UserCreds.
func NewAccountKey(tb testing.TB) nkeys.KeyPair {
	tb.Helper()
	return create(tb, nkeys.CreateAccount)
}

// accountJWT makes the JWT of account kp named name, signed by the
// operator okp.
func accountJWT(tb testing.TB, okp, kp nkeys.KeyPair, name string) (pub, token string) {
	tb.Helper()
	pub = public(tb, kp)
	ac := jwt.NewAccountClaims(pub)
	ac.Name = name
	token, err := ac.Encode(okp)
	if err != nil {
		tb.Fatalf("testcerts: account %s JWT: %v", name, err)
	}
	return pub, token
}

// create calls an nkeys constructor, failing the test on error.
func create(tb testing.TB, f func() (nkeys.KeyPair, error)) nkeys.KeyPair {
	tb.Helper()
	kp, err := f()
	if err != nil {
		tb.Fatalf("testcerts: nkey: %v", err)
	}
	return kp
}

// public returns kp's public key, failing the test on error.
func public(tb testing.TB, kp nkeys.KeyPair) string {
	tb.Helper()
	pub, err := kp.PublicKey()
	if err != nil {
		tb.Fatalf("testcerts: public key: %v", err)
	}
	return pub
}
