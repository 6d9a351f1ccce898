package awsauth

import (
	"encoding/json"
	"testing"
)

// jsonFoldKey must match field names exactly as encoding/json does (it is
// how aws-iam-authenticator reads aws-auth, through sigs.k8s.io/yaml):
// every spelling json maps to a field folds to that field's name, and no
// other does.
func TestJSONFoldKeyMatchesEncodingJSON(t *testing.T) {
	type fields struct {
		RoleARN  string `json:"rolearn"`
		UserARN  string `json:"userarn"`
		GroupARN string `json:"grouparn"`
		Username string `json:"username"`
		Groups   string `json:"groups"`
		UserID   string `json:"userid"`
		SSO      string `json:"sso"`
		PermSet  string `json:"permissionsetname"`
		Account  string `json:"accountid"`
		Part     string `json:"partition"`
	}
	names := []string{keyRoleARN, keyUserARN, keyGroupARN, keyUsername, keyGroups, keyUserID, keySSO,
		keySSOPermissionSet, keySSOAccountID, keySSOPartition}
	keys := []string{
		"userarn", "UserARN", "uſerarn", "USERARN", "ſſo", "SſO", "permiſſionSetName", "groupſ",
		"uſername", "userİd", "userıd", "uſerİd", "rolearn", "roleARN", "ro\u0142earn", "grouparn",
		"accountID", "partition", "ſ", "", "K", "user\xffarn", "uſerarn ", "ＵＳＥＲＡＲＮ",
	}
	for _, k := range keys {
		var f fields
		raw, _ := json.Marshal(map[string]string{k: "x"})
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{
			keyRoleARN: f.RoleARN != "", keyUserARN: f.UserARN != "", keyGroupARN: f.GroupARN != "",
			keyUsername: f.Username != "", keyGroups: f.Groups != "", keyUserID: f.UserID != "", keySSO: f.SSO != "",
			keySSOPermissionSet: f.PermSet != "", keySSOAccountID: f.Account != "", keySSOPartition: f.Part != "",
		}
		folded := jsonFoldKey(k)
		for _, n := range names {
			if got[n] != (folded == n) {
				t.Errorf("key %+q: encoding/json sets %s: %v; jsonFoldKey = %+q", k, n, got[n], folded)
			}
		}
	}
}
