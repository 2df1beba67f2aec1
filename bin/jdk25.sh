# Sourced by bin/modnet and bin/modnet-test: finds a JDK 25 and exports JAVA_HOME, or explains.
# Order: $JAVA_HOME if it is 25 or newer, then Temurin 25 under /usr/lib/jvm, then any JDK 25+ there.

modnet_java_feature() { # prints the feature release (25) of the JDK at $1, or nothing
    local release="$1/release" v
    [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] && [ -f "$release" ] || return 0
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release")
    echo "$v"
}

modnet_find_jdk() {
    local candidate v
    for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25* /usr/lib/jvm/*; do
        [ -n "$candidate" ] && [ -d "$candidate" ] || continue
        v=$(modnet_java_feature "$candidate")
        if [ -n "$v" ] && [ "$v" -ge 25 ]; then
            export JAVA_HOME="$candidate"
            return 0
        fi
    done
    echo "modnet: no JDK 25 found (JAVA_HOME=${JAVA_HOME:-unset}; looked in /usr/lib/jvm)." >&2
    echo "modnet: install Temurin 25 or another JDK 25 and set JAVA_HOME to it." >&2
    return 1
}
