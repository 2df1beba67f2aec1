/**
 * What a modnet shell command shares with the console that runs it: the command scope and the
 * error a command raises to print Linux's own error words and set an exit status.
 */
@Export
@Version("1.1.0")
package org.modnet.api.shell;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
