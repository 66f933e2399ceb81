// The Backstage backend kerberus is measured against: the default backend
// services, @backstage/plugin-proxy-backend, and a trivial plugin answering
// GET /api/hello/world with the text kerberus's hello plugin sends.
// Plain CommonJS, so no TypeScript build is needed.
'use strict';

const { createBackend } = require('@backstage/backend-defaults');
const { createBackendPlugin, coreServices } = require('@backstage/backend-plugin-api');
const express = require('express');

const hello = createBackendPlugin({
  pluginId: 'hello',
  register(env) {
    env.registerInit({
      deps: { http: coreServices.httpRouter },
      async init({ http }) {
        const router = express.Router();
        router.get('/world', (_req, res) => {
          res.type('text/plain').send('Hello, world!\n');
        });
        http.use(router);
        // kerberus's routes need no credentials either.
        http.addAuthPolicy({ path: '/world', allow: 'unauthenticated' });
      },
    });
  },
});

const backend = createBackend();
backend.add(require('@backstage/plugin-proxy-backend'));
backend.add(hello);
backend.start();
