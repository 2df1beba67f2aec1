/**
 * What a modnet shell command shares with the console that runs it: the command scope, the error a
 * command raises to print Linux's own error words and set an exit status, and the reading of its
 * words ({@code Commands.words}: an unset variable is an empty word).
 */
@Export
@Version("1.3.0")
package org.modnet.api.shell;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
