package faketransit

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// keyNameRE is Vault's framework.GenericNameRegex: a path segment that does
// not match it finds no route.
var keyNameRE = regexp.MustCompile(`^\w(([\w\-.@]+)?\w)?$`)

// errTooOld is Vault's message for a ciphertext below min_decryption_version.
const errTooOld = "ciphertext or signature version is disallowed by policy (too old)"

const (
	nonceSize = 12
	keySize   = 32
)

// key is one named transit key.
type key struct {
	name            string
	typ             string
	derived         bool
	exportable      bool
	deletionAllowed bool
	versions        map[int]keyVersion
	latest          int
	minDecrypt      int
	minEncrypt      int
}

type keyVersion struct {
	secret  []byte
	created time.Time
}

// userError is an error Vault reports to the caller as 400.
type userError string

func (e userError) Error() string { return string(e) }

func newKey(name, typ string, derived, exportable bool, now time.Time) *key {
	k := &key{name: name, typ: typ, derived: derived, exportable: exportable, versions: map[int]keyVersion{}, minDecrypt: 1}
	k.rotate(now)
	return k
}

func (k *key) rotate(now time.Time) {
	secret := make([]byte, keySize)
	_, _ = rand.Read(secret)
	k.latest++
	k.versions[k.latest] = keyVersion{secret: secret, created: now}
}

// info is the data of a key read, as Vault's formatKeyPolicy builds it. Keys
// below min_decryption_version are archived and not listed.
func (k *key) info() map[string]any {
	keys := map[string]int64{}
	for v := k.minDecrypt; v <= k.latest; v++ {
		keys[strconv.Itoa(v)] = k.versions[v].created.Unix()
	}
	d := map[string]any{
		"name": k.name, "type": k.typ, "derived": k.derived, "deletion_allowed": k.deletionAllowed,
		"min_available_version": 0, "min_decryption_version": k.minDecrypt, "min_encryption_version": k.minEncrypt,
		"latest_version": k.latest, "exportable": k.exportable, "allow_plaintext_backup": false,
		"supports_encryption": true, "supports_decryption": true, "supports_signing": false,
		"supports_derivation": true, "auto_rotate_period": 0, "imported_key": false, "keys": keys,
	}
	if k.derived {
		d["kdf"] = "hkdf_sha256"
		d["convergent_encryption"] = false
	}
	return d
}

// encKey returns the AES key for a version and context, as Vault's
// Policy.GetKey does for the hkdf_sha256 KDF.
func (k *key) encKey(ver int, context []byte) ([]byte, error) {
	if k.derived {
		if ver <= 0 || ver > k.latest {
			return nil, userError("invalid key version")
		}
		if len(context) == 0 {
			return nil, userError("missing 'context' for key derivation; the key was created using a derived key, " +
				"which means additional, per-request information must be included in order to perform operations with the key")
		}
	}
	kv, found := k.versions[ver]
	if !found || ver < k.minDecrypt {
		return nil, userError("no such key version")
	}
	if !k.derived {
		return kv.secret, nil
	}
	return hkdf.Key(sha256.New, kv.secret, nil, string(context), keySize)
}

func (k *key) encrypt(ver int, context, plaintext []byte) (string, int, error) {
	switch {
	case ver == 0:
		ver = k.latest
	case ver < 0:
		return "", 0, userError("requested version for encryption is negative")
	case ver > k.latest:
		return "", 0, userError("requested version for encryption is higher than the latest key version")
	case ver < k.minEncrypt:
		return "", 0, userError("requested version for encryption is less than the minimum encryption key version")
	}
	ek, err := k.encKey(ver, context)
	if err != nil {
		return "", 0, err
	}
	aead, err := gcm(ek)
	if err != nil {
		return "", 0, err
	}
	nonce := make([]byte, nonceSize)
	_, _ = rand.Read(nonce)
	sealed := aead.Seal(nonce, nonce, plaintext, nil)
	return "vault:v" + strconv.Itoa(ver) + ":" + base64.StdEncoding.EncodeToString(sealed), ver, nil
}

// decrypt follows Vault's Policy.DecryptWithFactory step by step, quirks
// included: version 0 means 1, strconv.Atoi parsing, lenient base64.
func (k *key) decrypt(context []byte, value string) ([]byte, error) {
	rest, found := strings.CutPrefix(value, "vault:v")
	if !found {
		return nil, userError("invalid ciphertext: no prefix")
	}
	parts := strings.SplitN(rest, ":", 2)
	if len(parts) != 2 {
		return nil, userError("invalid ciphertext: wrong number of fields")
	}
	ver, err := strconv.Atoi(parts[0])
	if err != nil {
		return nil, userError("invalid ciphertext: version number could not be decoded")
	}
	if ver == 0 {
		ver = 1
	}
	if ver > k.latest {
		return nil, userError("invalid ciphertext: version is too new")
	}
	if k.minDecrypt > 0 && ver < k.minDecrypt {
		return nil, userError(errTooOld)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, userError("invalid ciphertext: could not decode base64")
	}
	ek, err := k.encKey(ver, context)
	if err != nil {
		return nil, err
	}
	aead, err := gcm(ek)
	if err != nil {
		return nil, err
	}
	if len(raw) < aead.NonceSize() {
		return nil, userError("invalid ciphertext length")
	}
	plain, err := aead.Open(nil, raw[:nonceSize], raw[nonceSize:], nil)
	if err != nil {
		return nil, userError(err.Error())
	}
	return plain, nil
}

func gcm(k []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// transitLocked serves the paths of a transit mount.
func (s *Server) transitLocked(req *request, mount, rest string) response {
	parts := strings.Split(rest, "/")
	op, name := parts[0], parts[len(parts)-1]
	if len(parts) == 3 && op == "keys" {
		name = parts[1]
	}
	if rest == "keys" && req.method == "LIST" {
		return s.listKeysLocked(req, mount)
	}
	if len(parts) < 2 || len(parts) > 3 || !keyNameRE.MatchString(name) {
		return fail(http.StatusNotFound, "1 error occurred:\n\t* unsupported path\n\n")
	}
	id := mount + "/" + name
	k := s.keys[id]
	capability := map[string]string{"GET": "read", "POST": "update", "DELETE": "delete", "LIST": "list"}[req.method]
	if req.method == "POST" && k == nil && len(parts) == 2 && (op == "keys" || op == "encrypt") {
		capability = "create"
	}
	if !s.allowedLocked(req.tok, capability, req.path) {
		return s.deniedLocked()
	}
	switch {
	case op == "keys" && len(parts) == 2:
		switch req.method {
		case "GET":
			if k == nil {
				return fail(http.StatusNotFound)
			}
			return ok(k.info())
		case "POST":
			return s.createKeyLocked(req, id, name, k)
		case "DELETE":
			if k == nil {
				return badRequest("could not delete key; not found")
			}
			if !k.deletionAllowed {
				return badRequest("deletion is not allowed for this key")
			}
			delete(s.keys, id)
			return noContent()
		}
	case op == "keys" && parts[2] == "rotate" && req.method == "POST":
		if k == nil {
			return badRequest("key not found")
		}
		k.rotate(s.nowLocked())
		return ok(k.info())
	case op == "keys" && parts[2] == "config" && req.method == "POST":
		if k == nil {
			return badRequest("no existing key named %s could be found", name)
		}
		return configKey(req, k)
	case op == "encrypt" && len(parts) == 2 && req.method == "POST":
		return s.encryptLocked(req, id, name, k)
	case op == "decrypt" && len(parts) == 2 && req.method == "POST":
		return decryptOp(req, k)
	case op == "rewrap" && len(parts) == 2 && req.method == "POST":
		return rewrapOp(req, k)
	case op == "datakey" && len(parts) == 3 && req.method == "POST":
		return datakeyOp(req, parts[1], k)
	default:
		if slices.Contains([]string{"keys", "encrypt", "decrypt", "rewrap", "datakey"}, op) {
			return fail(http.StatusMethodNotAllowed, "1 error occurred:\n\t* unsupported operation\n\n")
		}
		return fail(http.StatusNotFound, "1 error occurred:\n\t* unsupported path\n\n")
	}
	return fail(http.StatusMethodNotAllowed, "1 error occurred:\n\t* unsupported operation\n\n")
}

func (s *Server) listKeysLocked(req *request, mount string) response {
	if !s.allowedLocked(req.tok, "list", req.path) {
		return s.deniedLocked()
	}
	var names []string
	for id := range s.keys {
		if n, found := strings.CutPrefix(id, mount+"/"); found {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return fail(http.StatusNotFound)
	}
	slices.Sort(names)
	return ok(map[string]any{"keys": names})
}

func (s *Server) createKeyLocked(req *request, id, name string, k *key) response {
	typ := str(req.body, "type")
	if typ == "" {
		typ = "aes256-gcm96"
	}
	derived, _, err := boolean(req.body, "derived")
	if err != nil {
		return badRequest("%v", err)
	}
	convergent, _, err := boolean(req.body, "convergent_encryption")
	if err != nil {
		return badRequest("%v", err)
	}
	exportable, _, err := boolean(req.body, "exportable")
	if err != nil {
		return badRequest("%v", err)
	}
	if convergent && !derived {
		return badRequest("convergent encryption requires derivation to be enabled")
	}
	switch typ {
	case "aes256-gcm96":
	case "aes128-gcm96", "chacha20-poly1305", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "ed25519",
		"rsa-2048", "rsa-3072", "rsa-4096", "hmac":
		return badRequest("key type %s is not implemented by this test server", typ)
	default:
		return badRequest("unknown key type %v", typ)
	}
	if convergent {
		return badRequest("convergent encryption is not implemented by this test server")
	}
	if k != nil {
		r := ok(k.info())
		r.warnings = []string{fmt.Sprintf("key %s already existed", name)}
		return r
	}
	k = newKey(name, typ, derived, exportable, s.nowLocked())
	s.keys[id] = k
	return ok(k.info())
}

// configKey applies POST keys/:name/config with Vault's checks and messages.
func configKey(req *request, k *key) response {
	minDec, decSet, err := integer(req.body, "min_decryption_version")
	if err != nil {
		return badRequest("%v", err)
	}
	minEnc, encSet, err := integer(req.body, "min_encryption_version")
	if err != nil {
		return badRequest("%v", err)
	}
	deletion, delSet, err := boolean(req.body, "deletion_allowed")
	if err != nil {
		return badRequest("%v", err)
	}
	newDec, newEnc := k.minDecrypt, k.minEncrypt
	var warnings []string
	if decSet {
		if minDec < 0 {
			return badRequest("min decryption version cannot be negative")
		}
		if minDec == 0 {
			minDec = 1
			warnings = append(warnings, "since Vault 0.3, transit key numbering starts at 1; forcing minimum to 1")
		}
		if minDec != k.minDecrypt && minDec > k.latest {
			return badRequest("cannot set min decryption version of %d, latest key version is %d", minDec, k.latest)
		}
		newDec = minDec
	}
	if encSet {
		if minEnc < 0 {
			return badRequest("min encryption version cannot be negative")
		}
		if minEnc != k.minEncrypt && minEnc > k.latest {
			return badRequest("cannot set min encryption version of %d, latest key version is %d", minEnc, k.latest)
		}
		newEnc = minEnc
	}
	if newEnc > 0 && newEnc < newDec {
		return badRequest("cannot set min encryption/decryption values; min encryption version of %d must be "+
			"greater than or equal to min decryption version of %d", newEnc, newDec)
	}
	k.minDecrypt, k.minEncrypt = newDec, newEnc
	if delSet {
		k.deletionAllowed = deletion
	}
	r := ok(k.info())
	r.warnings = warnings
	return r
}

func decode64(body map[string]any, field string) ([]byte, error) {
	v := str(body, field)
	if v == "" {
		return nil, nil
	}
	return base64.StdEncoding.DecodeString(v)
}

func (s *Server) encryptLocked(req *request, id, name string, k *key) response {
	if _, present := req.body["plaintext"]; !present {
		return badRequest("missing plaintext to encrypt")
	}
	plaintext, err := decode64(req.body, "plaintext")
	if err != nil {
		return badRequest("%v", err)
	}
	context, err := decode64(req.body, "context")
	if err != nil {
		return badRequest("%v", err)
	}
	ver, _, err := integer(req.body, "key_version")
	if err != nil {
		return badRequest("%v", err)
	}
	if k == nil {
		// Vault creates a missing key on encrypt (an upsert, which needs the
		// create capability), derived when a context was sent.
		typ := str(req.body, "type")
		if typ == "" {
			typ = "aes256-gcm96"
		}
		if typ != "aes256-gcm96" {
			return badRequest("unknown key type %v", typ)
		}
		k = newKey(name, typ, len(context) != 0, false, s.nowLocked())
		s.keys[id] = k
	}
	ct, used, err := k.encrypt(ver, context, plaintext)
	clear(plaintext)
	if err != nil {
		return badRequest("%v", err)
	}
	return ok(map[string]any{"ciphertext": ct, "key_version": used})
}

func decryptOp(req *request, k *key) response {
	ct := str(req.body, "ciphertext")
	if ct == "" {
		return badRequest("missing ciphertext to decrypt")
	}
	context, err := decode64(req.body, "context")
	if err != nil {
		return badRequest("%v", err)
	}
	if k == nil {
		return badRequest("encryption key not found")
	}
	plain, err := k.decrypt(context, ct)
	if err != nil {
		return badRequest("%v", err)
	}
	out := base64.StdEncoding.EncodeToString(plain)
	clear(plain)
	return ok(map[string]any{"plaintext": out})
}

func rewrapOp(req *request, k *key) response {
	ct := str(req.body, "ciphertext")
	if ct == "" {
		return badRequest("missing ciphertext to decrypt")
	}
	context, err := decode64(req.body, "context")
	if err != nil {
		return badRequest("%v", err)
	}
	ver, _, err := integer(req.body, "key_version")
	if err != nil {
		return badRequest("%v", err)
	}
	if k == nil {
		return badRequest("encryption key not found")
	}
	plain, err := k.decrypt(context, ct)
	if err != nil {
		return badRequest("%v", err)
	}
	out, used, err := k.encrypt(ver, context, plain)
	clear(plain)
	if err != nil {
		return badRequest("%v", err)
	}
	return ok(map[string]any{"ciphertext": out, "key_version": used})
}

func datakeyOp(req *request, kind string, k *key) response {
	if kind != "plaintext" && kind != "wrapped" {
		return badRequest("Invalid path, must be 'plaintext' or 'wrapped'")
	}
	context, err := decode64(req.body, "context")
	if err != nil {
		return badRequest("failed to base64-decode context")
	}
	ver, _, err := integer(req.body, "key_version")
	if err != nil {
		return badRequest("%v", err)
	}
	bits, set, err := integer(req.body, "bits")
	if err != nil {
		return badRequest("%v", err)
	}
	if !set {
		bits = 256
	}
	if k == nil {
		return badRequest("encryption key not found")
	}
	if bits != 128 && bits != 256 && bits != 512 {
		return badRequest("invalid bit length")
	}
	dk := make([]byte, bits/8)
	_, _ = rand.Read(dk)
	ct, used, err := k.encrypt(ver, context, dk)
	if err != nil {
		return badRequest("%v", err)
	}
	data := map[string]any{"ciphertext": ct, "key_version": used}
	if kind == "plaintext" {
		data["plaintext"] = base64.StdEncoding.EncodeToString(dk)
	}
	clear(dk)
	return ok(data)
}
