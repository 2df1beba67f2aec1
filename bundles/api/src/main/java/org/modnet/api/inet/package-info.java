/**
 * The internet layer's API: L4 protocol handlers registered by IP protocol number
 * ({@code inet_add_protocol}) and the internet checksum.
 */
@Export
@Version("1.14.0")
package org.modnet.api.inet;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
