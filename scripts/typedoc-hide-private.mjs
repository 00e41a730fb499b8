// TypeDoc plugin: leaves `ɵ`-prefixed exports and members out of the API reference. By Angular's
// convention they are private API (here: hooks for ngx-jot/testing and the feature internals).
import { Converter, ReflectionKind } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const reflection of context.project.getReflectionsByKind(ReflectionKind.All)) {
      if (reflection.name.startsWith('ɵ')) context.project.removeReflection(reflection);
    }
  });
}
