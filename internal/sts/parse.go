package sts

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"strings"
)

type jsonIdentity struct {
	GetCallerIdentityResponse struct {
		GetCallerIdentityResult struct {
			Account string `json:"Account"`
			Arn     string `json:"Arn"`
			UserID  string `json:"UserId"`
		} `json:"GetCallerIdentityResult"`
	} `json:"GetCallerIdentityResponse"`
}

type xmlIdentity struct {
	XMLName xml.Name `xml:"GetCallerIdentityResponse"`
	Result  struct {
		Account string `xml:"Account"`
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
	} `xml:"GetCallerIdentityResult"`
}

func isJSON(ctype string, body []byte) bool {
	return strings.Contains(strings.ToLower(ctype), "json") || bytes.HasPrefix(bytes.TrimSpace(body), []byte("{"))
}

// parseIdentity reads a 200 answer (JSON or XML) and checks it is coherent.
func parseIdentity(ctype string, body []byte) (Identity, error) {
	var id Identity
	if isJSON(ctype, body) {
		var j jsonIdentity
		if err := json.Unmarshal(body, &j); err != nil {
			return Identity{}, errors.New("malformed JSON")
		}
		r := j.GetCallerIdentityResponse.GetCallerIdentityResult
		id = Identity{ARN: r.Arn, Account: r.Account, UserID: r.UserID}
	} else {
		var x xmlIdentity
		if err := xml.Unmarshal(body, &x); err != nil {
			return Identity{}, errors.New("malformed XML")
		}
		id = Identity{ARN: x.Result.Arn, Account: x.Result.Account, UserID: x.Result.UserID}
	}
	return id, checkIdentity(id)
}

// checkIdentity fails closed on an answer that does not hang together: the
// ARN is what mapping trusts, so it must name the account STS reported.
func checkIdentity(id Identity) error {
	if id.ARN == "" {
		return errors.New("empty Arn")
	}
	if !printableASCII(id.ARN) || !printableASCII(id.UserID) {
		return errors.New("non-printable characters in answer")
	}
	if len(id.Account) != 12 || strings.Trim(id.Account, "0123456789") != "" {
		return errors.New("Account is not 12 digits")
	}
	parts := strings.SplitN(id.ARN, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[5] == "" {
		return errors.New("Arn is not an ARN")
	}
	if parts[4] != id.Account {
		return errors.New("Arn account differs from Account")
	}
	if id.UserID == "" {
		return errors.New("empty UserId")
	}
	return nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// parseErrorCode extracts the STS error code from a JSON or XML error body;
// "" when none can be read. Only a plain token is returned, never free text.
func parseErrorCode(ctype string, body []byte) string {
	var code string
	if isJSON(ctype, body) {
		var j struct {
			Error struct {
				Code string `json:"Code"`
			} `json:"Error"`
			ErrorResponse struct {
				Error struct {
					Code string `json:"Code"`
				} `json:"Error"`
			} `json:"ErrorResponse"`
		}
		if json.Unmarshal(body, &j) == nil {
			code = j.Error.Code
			if code == "" {
				code = j.ErrorResponse.Error.Code
			}
		}
	} else {
		var x struct {
			Code string `xml:"Error>Code"`
		}
		if xml.Unmarshal(body, &x) == nil {
			code = x.Code
		}
	}
	if len(code) > 64 || strings.Trim(code, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.") != "" {
		return ""
	}
	return code
}
