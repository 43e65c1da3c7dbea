// Command waba-gensdk-java writes a Pulumi package's Java SDK, a Maven project, from its
// schema.json.
//
//	waba-gensdk-java -schema provider/waba_webhooks/plugin/schema.json -out sdk/java
//
// The generator is upstream's, github.com/pulumi/pulumi-java/pkg/codegen/java, of the same
// pulumi-java version as the engine's pulumi-language-java (this Go module's go.mod): this program
// deduplicates and binds the schema as that host's GeneratePackage does and hands the bound package
// to it. It builds in a module of its own because pulumi-java requires its own pkg/v3 version, not
// the CLI's (tools/engine/go.mod).
//
// Upstream's only build files are Gradle's, and Gradle writes the package's plugin.json at build
// time. This program asks for none (buildFiles "none": the sources and version.txt) and adds what
// Maven needs instead, at the root:
//   - pom.xml: groupId the schema's language.java basePackage, artifactId the package name, the
//     package version, com.pulumi:pulumi at the version of pulumi-java this program is built from,
//     and the plugins of the build pinned;
//   - src/main/resources/<package path>/plugin.json: the plugin a program of the SDK needs (name,
//     version, where the engine downloads it), which pulumi-language-java finds on the program's
//     class path, as upstream's Gradle build writes it.
//
// The schema must be self-contained (no other package's types): any package reference fails.
// The output directory must be empty or absent; tools/gen-sdk generates into a new directory and
// swaps it in, so files the generator no longer writes disappear.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"text/template"

	"github.com/blang/semver"
	javagen "github.com/pulumi/pulumi-java/pkg/codegen/java"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// tool names the generator in the header of every file it writes.
const tool = "tools/gen-sdk"

// pulumiJava is the Go module of pulumi-java, whose version is that of com.pulumi:pulumi (its
// Java SDK and its Go packages are released together).
const pulumiJava = "github.com/pulumi/pulumi-java/pkg"

func main() {
	schemaPath := flag.String("schema", "", "the package's schema.json")
	outDir := flag.String("out", "", "the directory to write the SDK into (empty or absent)")
	flag.Parse()
	if *schemaPath == "" || *outDir == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: waba-gensdk-java -schema SCHEMA.json -out DIR")
		os.Exit(2)
	}
	n, err := generate(*schemaPath, *outDir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "waba-gensdk-java: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "waba-gensdk-java: wrote %d files to %s\n", n, *outDir)
}

func generate(schemaPath, outDir string) (int, error) {
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		return 0, err
	}
	var raw schema.PackageSpec
	if err := json.Unmarshal(data, &raw); err != nil {
		return 0, fmt.Errorf("%s: %w", schemaPath, err)
	}
	if entries, err := os.ReadDir(outDir); err == nil && len(entries) > 0 {
		return 0, fmt.Errorf("%s is not empty", outDir)
	}
	sdkVersion, err := javaSDKVersion()
	if err != nil {
		return 0, err
	}

	spec, diags, err := javagen.DeduplicateTypes(&raw)
	for _, d := range diags {
		fmt.Fprintf(os.Stderr, "%s: %s\n", schemaPath, d.Error())
	}
	if err != nil || diags.HasErrors() {
		return 0, fmt.Errorf("deduplicating the types of %s: %v", schemaPath, err)
	}
	pkg, bindDiags, err := schema.BindSpec(*spec, noPackages{}, schema.ValidationOptions{})
	for _, d := range bindDiags {
		fmt.Fprintf(os.Stderr, "%s: %s\n", schemaPath, d.Error())
	}
	if err != nil {
		return 0, fmt.Errorf("binding %s: %w", schemaPath, err)
	}
	if bindDiags.HasErrors() {
		return 0, fmt.Errorf("%s does not bind (see above)", schemaPath)
	}
	if pkg.Version == nil {
		return 0, errors.New("the schema has no version (the SDK's pom.xml and plugin.json name it)")
	}
	if err := pkg.ImportLanguages(map[string]schema.Language{"java": javagen.Importer}); err != nil {
		return 0, fmt.Errorf("reading the schema's language.java: %w", err)
	}
	info, _ := pkg.Language["java"].(javagen.PackageInfo)
	if info.BasePackage == "" {
		return 0, errors.New("the schema's language.java has no basePackage (the SDK's Maven groupId)")
	}
	info.BuildFiles = "none"
	pkg.Language["java"] = info

	files, err := javagen.GeneratePackage(tool, pkg, nil, nil, false, false)
	if err != nil {
		return 0, fmt.Errorf("generating the SDK: %w", err)
	}
	if err := addMaven(files, pkg, info, sdkVersion); err != nil {
		return 0, err
	}

	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(outDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return 0, err
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return 0, err
		}
	}
	return len(names), nil
}

// javaSDKVersion is the version of com.pulumi:pulumi that the generated code is written against:
// that of the pulumi-java module this program is built from.
func javaSDKVersion() (string, error) {
	build, ok := debug.ReadBuildInfo()
	if ok {
		for _, dep := range build.Deps {
			if dep.Path == pulumiJava {
				v, err := semver.ParseTolerant(dep.Version)
				if err != nil {
					return "", fmt.Errorf("%s %s: %w", pulumiJava, dep.Version, err)
				}
				return v.String(), nil
			}
		}
	}
	return "", errors.New("no " + pulumiJava + " in this program's build information")
}

// pluginJSON is what upstream's Gradle build writes to the package's resources: the plugin of the
// SDK's programs, with where the engine downloads it.
type pluginJSON struct {
	Resource bool   `json:"resource"`
	Name     string `json:"name"`
	Version  string `json:"version"`
	Server   string `json:"server,omitempty"`
}

// addMaven adds pom.xml and the package's plugin.json to the generated files.
func addMaven(files map[string][]byte, pkg *schema.Package, info javagen.PackageInfo, sdkVersion string) error {
	javaPackage := info.BasePackageOrDefault() + pkg.Name
	resources := "src/main/resources/" + strings.ReplaceAll(javaPackage, ".", "/")
	if _, ok := files[resources+"/version.txt"]; !ok {
		return fmt.Errorf("the generator wrote no %s/version.txt", resources)
	}
	plugin, err := json.MarshalIndent(pluginJSON{
		Resource: true, Name: pkg.Name, Version: pkg.Version.String(), Server: pkg.PluginDownloadURL,
	}, "", "  ")
	if err != nil {
		return err
	}
	files[resources+"/plugin.json"] = append(plugin, '\n')

	// The dependencies the generated code compiles against besides com.pulumi:pulumi (upstream's
	// defaults: gson, jsr305's annotations) are com.pulumi:pulumi's own at run time; "provided"
	// keeps Maven's nearest-wins from handing a program these older versions instead of its.
	var compileOnly []dependency
	deps := info.WithDefaultDependencies().Dependencies
	coordinates := make([]string, 0, len(deps))
	for coordinate := range deps {
		coordinates = append(coordinates, coordinate)
	}
	sort.Strings(coordinates)
	for _, coordinate := range coordinates {
		group, artifact, ok := strings.Cut(coordinate, ":")
		if !ok {
			return fmt.Errorf("language.java dependency %q is not groupId:artifactId", coordinate)
		}
		if coordinate != "com.pulumi:pulumi" {
			compileOnly = append(compileOnly, dependency{group, artifact, deps[coordinate]})
		}
	}
	values := map[string]any{
		"Tool":        tool,
		"GroupID":     strings.TrimSuffix(info.BasePackageOrDefault(), "."),
		"ArtifactID":  pkg.Name,
		"Version":     pkg.Version.String(),
		"Name":        pkg.DisplayName,
		"Description": pkg.Description,
		"URL":         pkg.Homepage,
		"License":     pkg.License,
		"SDKVersion":  sdkVersion,
		"CompileOnly": compileOnly,
	}
	var pom bytes.Buffer
	if err := pomTemplate.Execute(&pom, values); err != nil {
		return fmt.Errorf("writing pom.xml: %w", err)
	}
	files["pom.xml"] = pom.Bytes()
	return nil
}

// dependency is a Maven dependency of the SDK.
type dependency struct{ GroupID, ArtifactID, Version string }

// xmlText is s escaped for XML character data.
func xmlText(s string) (string, error) {
	var escaped strings.Builder
	err := xml.EscapeText(&escaped, []byte(s))
	return escaped.String(), err
}

// pomTemplate is the SDK's pom.xml. Java 11 is pulumi-java's oldest; the plugins are pinned so
// that the build is the same on every machine (Maven's defaults differ from version to version).
var pomTemplate = template.Must(template.New("pom.xml").Option("missingkey=error").Funcs(template.FuncMap{"xml": xmlText}).Parse(
	`<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by {{ .Tool }} from the package's schema; do not edit. -->
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>

  <groupId>{{ .GroupID | xml }}</groupId>
  <artifactId>{{ .ArtifactID | xml }}</artifactId>
  <version>{{ .Version | xml }}</version>
  <packaging>jar</packaging>

  <name>{{ .Name | xml }}</name>
  <description>{{ .Description | xml }}</description>
  <url>{{ .URL | xml }}</url>
  <licenses>
    <license>
      <name>{{ .License | xml }}</name>
    </license>
  </licenses>

  <properties>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
    <maven.compiler.release>11</maven.compiler.release>
  </properties>

  <dependencies>
    <dependency>
      <groupId>com.pulumi</groupId>
      <artifactId>pulumi</artifactId>
      <version>{{ .SDKVersion | xml }}</version>
    </dependency>
{{- range .CompileOnly }}
    <dependency>
      <groupId>{{ .GroupID | xml }}</groupId>
      <artifactId>{{ .ArtifactID | xml }}</artifactId>
      <version>{{ .Version | xml }}</version>
      <scope>provided</scope>
    </dependency>
{{- end }}
  </dependencies>

  <build>
    <pluginManagement>
      <plugins>
        <plugin>
          <groupId>org.apache.maven.plugins</groupId>
          <artifactId>maven-resources-plugin</artifactId>
          <version>3.3.1</version>
        </plugin>
        <plugin>
          <groupId>org.apache.maven.plugins</groupId>
          <artifactId>maven-compiler-plugin</artifactId>
          <version>3.13.0</version>
        </plugin>
        <plugin>
          <groupId>org.apache.maven.plugins</groupId>
          <artifactId>maven-surefire-plugin</artifactId>
          <version>3.5.2</version>
        </plugin>
        <plugin>
          <groupId>org.apache.maven.plugins</groupId>
          <artifactId>maven-jar-plugin</artifactId>
          <version>3.4.2</version>
        </plugin>
        <plugin>
          <groupId>org.apache.maven.plugins</groupId>
          <artifactId>maven-install-plugin</artifactId>
          <version>3.1.3</version>
        </plugin>
      </plugins>
    </pluginManagement>
  </build>
</project>
`))

// noPackages is the schema loader of a self-contained schema: it knows no other package.
type noPackages struct{}

var errNoPackages = errors.New("this schema may not refer to other packages (waba-gensdk-java loads none)")

func (noPackages) LoadPackage(name string, _ *semver.Version) (*schema.Package, error) {
	return nil, fmt.Errorf("package %s: %w", name, errNoPackages)
}

func (noPackages) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, fmt.Errorf("package %s: %w", d.Name, errNoPackages)
}

func (noPackages) LoadPackageReference(name string, _ *semver.Version) (schema.PackageReference, error) {
	return nil, fmt.Errorf("package %s: %w", name, errNoPackages)
}

func (noPackages) LoadPackageReferenceV2(
	_ context.Context, d *schema.PackageDescriptor,
) (schema.PackageReference, error) {
	return nil, fmt.Errorf("package %s: %w", d.Name, errNoPackages)
}
