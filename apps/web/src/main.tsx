import { render } from 'preact';
import { pageServices } from './page.services.ts';
import { loadPageConfig } from './settings/page-config.ts';
import { App } from './views/app.view.tsx';
import './styles.css';

void loadPageConfig(location.href).then((config) => {
  const root = document.getElementById('app');
  if (root) render(<App services={pageServices(config)} />, root);
});
