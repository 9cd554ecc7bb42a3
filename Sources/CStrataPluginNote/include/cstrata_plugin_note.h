/* CStrataPluginNote has no API: its one object file carries the plugin note (note.c). */
