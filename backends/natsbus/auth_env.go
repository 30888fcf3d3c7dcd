package natsbus

import (
	"os"
	"strconv"
)

// AuthFromEnv reads an Auth from the environment variables the NATS
// command line tool (natscli) uses, plus NATS_TOKEN and NATS_TLS_FIRST:
//
//	NATS_USER       User
//	NATS_PASSWORD   Password
//	NATS_TOKEN      Token
//	NATS_NKEY       NKeySeedFile (path of the seed file)
//	NATS_CREDS      CredsFile (path of the credentials file)
//	NATS_CA         CAFile
//	NATS_CERT       CertFile
//	NATS_KEY        KeyFile
//	NATS_TLS_FIRST  TLSFirst ("1", "true", "t"... as strconv.ParseBool;
//	                anything else, including a malformed value, is false)
//
// Unset and empty variables leave their field empty. Nothing is checked
// here: a conflict (say NATS_USER and NATS_CREDS both set) or a missing
// file is reported when the connection is opened.
//
// NATS_USER is always a user name here, even without NATS_PASSWORD (the
// natscli flag it comes from reads "Username or Token"): a token goes in
// NATS_TOKEN. natscli itself reads neither NATS_TOKEN nor NATS_TLS_FIRST.
func AuthFromEnv() Auth { return authFromLookup(os.LookupEnv) }

// authFromLookup is AuthFromEnv reading variables through lookup.
func authFromLookup(lookup func(string) (string, bool)) Auth {
	get := func(name string) string {
		v, _ := lookup(name)
		return v
	}
	first, _ := strconv.ParseBool(get("NATS_TLS_FIRST"))
	return Auth{
		User:         get("NATS_USER"),
		Password:     Secret(get("NATS_PASSWORD")),
		Token:        Secret(get("NATS_TOKEN")),
		NKeySeedFile: get("NATS_NKEY"),
		CredsFile:    get("NATS_CREDS"),
		CAFile:       get("NATS_CA"),
		CertFile:     get("NATS_CERT"),
		KeyFile:      get("NATS_KEY"),
		TLSFirst:     first,
	}
}
