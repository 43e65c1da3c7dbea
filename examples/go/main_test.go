// Unit tests of the routing with pulumi.WithMocks: the program runs against a mock engine, no
// plugin and no Graph API, and each test checks what it declares (`go test ./...`).
package main

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// declared records the resources the program registers; each gets its inputs back as its state
// and the id its type would have (the WABA, the phone number, the app).
type declared struct {
	mu        sync.Mutex
	resources map[string]pulumi.MockResourceArgs
	calls     []pulumi.MockCallArgs
}

func (d *declared) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.resources[args.Name] = args
	id := args.Name
	for _, key := range []resource.PropertyKey{"wabaId", "phoneNumberId"} {
		if v, ok := args.Inputs[key]; ok && v.IsString() {
			id = v.StringValue()
		}
	}
	return id, args.Inputs, nil
}

// Call records each function the program calls and answers with its input echoed.
func (d *declared) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, args)
	return resource.PropertyMap{"wabaId": args.Args["wabaId"]}, nil
}

// run runs the routing program with the stack config of examples/README.md.
func run(t *testing.T) map[string]pulumi.MockResourceArgs {
	return runMocks(t).resources
}

// runMocks runs the routing program and returns what it declared and called.
func runMocks(t *testing.T) *declared {
	t.Helper()
	config := map[string]string{"verifyToken": "test-verify-token"}
	for _, name := range []string{"support", "vip", "sales", "app"} {
		config[name+"Url"] = "https://" + name + ".example.com/whatsapp"
	}
	const project = "whatsapp-routing-go"
	keyed := map[string]string{}
	for key, value := range config {
		keyed[project+":"+key] = value
	}
	configJSON, err := json.Marshal(keyed)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(pulumi.EnvConfig, string(configJSON))
	t.Setenv(pulumi.EnvConfigSecretKeys, `["`+project+`:verifyToken"]`)

	mocks := &declared{resources: map[string]pulumi.MockResourceArgs{}}
	if err := pulumi.RunErr(routing, pulumi.WithMocks(project, "test", mocks)); err != nil {
		t.Fatal(err)
	}
	return mocks
}

func TestRoutingDeclaresTheThreeRules(t *testing.T) {
	resources := run(t)
	want := map[string]string{
		"support": "whatsapp:index:WabaRouting",
		"sales":   "whatsapp:index:PhoneCallbackOverride",
		"app":     "whatsapp:index:AppWebhookSubscription",
	}
	if len(resources) != len(want) {
		t.Fatalf("declared %d resources, want %d: %v", len(resources), len(want), resources)
	}
	for name, token := range want {
		if got := resources[name].TypeToken; got != token {
			t.Errorf("%s is a %q, want %q", name, got, token)
		}
	}
	routed := resources["support"].Inputs["phoneNumbers"].ObjectValue()
	if got := routed["106540352242922"].StringValue(); got != "https://vip.example.com/whatsapp" {
		t.Errorf("the VIP number goes to %q", got)
	}
	if got := resources["sales"].Inputs["callbackUri"].StringValue(); got != "https://sales.example.com/whatsapp" {
		t.Errorf("the sales number goes to %q", got)
	}
}

func TestVerifyTokenStaysSecret(t *testing.T) {
	for name, args := range run(t) {
		token, ok := args.Inputs["verifyToken"]
		if !ok || !token.IsSecret() {
			t.Errorf("%s: the verify token is not a secret input: %v", name, token)
		}
	}
}

func TestAppSubscriptionTakesOverTheDashboardSetting(t *testing.T) {
	app := run(t)["app"].Inputs
	if !app["adoptExisting"].BoolValue() {
		t.Error("the app's subscription does not adopt the existing callback URL")
	}
	var fields []string
	for _, field := range app["fields"].ArrayValue() {
		fields = append(fields, field.StringValue())
	}
	if len(fields) != 2 || fields[0] != "messages" || fields[1] != "account_update" {
		t.Errorf("fields %v, want [messages account_update]", fields)
	}
}

func TestEffectiveRoutingIsReadForTheSupportWaba(t *testing.T) {
	calls := runMocks(t).calls
	if len(calls) != 1 || calls[0].Token != "whatsapp:index:getEffectiveRouting" {
		t.Fatalf("calls %v, want one getEffectiveRouting", calls)
	}
	if got := calls[0].Args["wabaId"].StringValue(); got != "102290129340398" {
		t.Errorf("getEffectiveRouting reads WABA %q", got)
	}
}
