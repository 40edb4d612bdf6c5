import type { HttpApp } from './http-app.js';
import type { Context } from '../context.js';
import { registerHealthRoutes } from '../modules/health/health.routes.js';

/** Every route module, in one place: the layout of the API at a glance. */
export async function registerRoutes(app: HttpApp, context: Context): Promise<void> {
  registerHealthRoutes(app, context);
}
